<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title + " · " if title else ""}}{{app_name}}</title>
<link rel="stylesheet" href="/static/style.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
% for script in get('scripts', []):
<script src="{{script}}" defer></script>
% end
</head>
<body>
<header class="site-header">
  <div class="wrap header-row">
    <a class="brand" href="/"><span class="brand-mark" aria-hidden="true">◆</span> {{app_name}}</a>
    <form class="search" action="/" method="get" role="search">
      <label class="visually-hidden" for="site-search">Search products</label>
      <input id="site-search" type="search" name="q" placeholder="Search products" value="{{site_search}}">
    </form>
    <nav class="main-nav" aria-label="Main">
      % if user is None:
        <a href="/cart">Cart{{" (%d)" % cart_count if get('cart_count') else ""}}</a>
        <a href="/login">Log in</a>
        <a class="button button-small" href="/register">Sign up</a>
      % else:
        % if user.role == 'customer':
          <a href="/cart">Cart{{" (%d)" % cart_count if get('cart_count') else ""}}</a>
          <a href="/purchases">Purchases</a>
        % elif user.role == 'seller':
          <a href="/seller/products">My products</a>
          <a href="/seller/profile">My storefront</a>
          <a href="/seller/balance">Balance</a>
          <a href="/seller/reports">Reports</a>
          <a href="/seller/discounts">Discounts</a>
          <a href="/seller/licenses">Licenses</a>
        % elif user.role == 'admin':
          <a href="/admin/products">Moderation</a>
          <a href="/admin/categories">Categories</a>
          <a href="/admin/orders">Orders</a>
          <a href="/admin/payouts">Payouts</a>
          <a href="/admin/discounts">Discounts</a>
          <a href="/admin/queue">Queue</a>
        % end
        <a href="/notifications" class="notif-link">Notifications
          % if unread_count:
          <span class="badge badge-count" aria-label="{{unread_count}} unread">{{unread_count}}</span>
          % end
        </a>
        <a href="/account">Settings</a>
        <form class="inline" action="/logout" method="post">
          <input type="hidden" name="csrf_token" value="{{csrf_token}}">
          <button class="link-button" type="submit">Log out</button>
        </form>
      % end
    </nav>
  </div>
</header>
% if test_payments:
<div class="test-banner" role="note">Test mode: payments are simulated and no money moves.</div>
% end
<main class="wrap">
% if user and not user.email_verified:
  <div class="flash flash-warning verify-reminder" role="note">
    Please confirm your email address: we sent a link to {{user.email}}.
    <form class="inline" action="/email/verify/resend" method="post">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <button class="link-button" type="submit">Send it again</button>
    </form>
  </div>
% end
% if flash:
  <div class="flash flash-{{flash['kind']}}" role="status">{{flash['message']}}</div>
% end
{{!base}}
</main>
<footer class="site-footer">
  <div class="wrap">{{app_name}} · digital products from independent sellers
  % if user is None:
   · <a href="/register?role=seller">Sell with us</a>
  % end
  </div>
</footer>
</body>
</html>
