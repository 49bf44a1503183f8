% rebase('base.tpl')
<section class="panel narrow">
  <h1>Account settings</h1>
  % if errors.get('_'):
  <div class="flash flash-error" role="alert">{{errors['_']}}</div>
  % end
  % # Each form shows the errors of its own submission only: two of them ask for the current password.
  % failed = get('failed')
  % mine = lambda which: errors if failed == which else {}

  <h2>Name</h2>
  <form method="post" action="/account/name" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='name', label='Your name', value=form.get('name') or user.name, required=True, attrs='autocomplete="name" maxlength="100"', errors=mine('name'))
    <button class="button" type="submit">Save name</button>
  </form>

  <h2>Email address</h2>
  <p>Your address is <strong>{{user.email}}</strong>{{'' if user.email_verified else ' (not confirmed yet)'}}.
    A new address takes effect once you open the link we email to it; the old one is told of the change.</p>
  <form method="post" action="/account/email" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='email', label='New email address', type='email', value=form.get('email'), required=True, attrs='autocomplete="email"', errors=mine('email'))
    % include('_field.tpl', name='current_password', field_id='email-current-password', label='Current password', type='password', value='', required=True, attrs='autocomplete="current-password"', errors=mine('email'))
    <button class="button" type="submit">Change email</button>
  </form>

  <h2>Password</h2>
  <form method="post" action="/account/password" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='current_password', label='Current password', type='password', value='', required=True, attrs='autocomplete="current-password"', errors=mine('password'))
    % include('_field.tpl', name='password', label='New password', type='password', value='', required=True, hint='At least 8 characters. Your account is then logged out everywhere else.', attrs='autocomplete="new-password" minlength="8"', errors=mine('password'))
    <button class="button" type="submit">Change password</button>
  </form>

  <h2>Where you are logged in</h2>
  <ul class="plain-list">
    % for session, here in sessions:
    <li>Logged in {{session.created_at.strftime('%d %b %Y %H:%M')}} UTC{{!' · <strong>this browser</strong>' if here else ''}}</li>
    % end
  </ul>
  % if len(sessions) > 1:
  <form method="post" action="/account/sessions/end-others">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    <button class="button button-secondary" type="submit">Log out everywhere else</button>
  </form>
  % end

  % if user.role in ('seller', 'admin'):
  <h2>API and webhooks</h2>
  <p><a href="/account/api">Personal access tokens and webhook endpoints</a> connect your own tools to the shop.</p>
  % end

  <h2>Your data</h2>
  <p><a class="button button-secondary" href="/account/data" download>Download everything we hold about you (JSON)</a></p>

  <h2>Delete your account</h2>
  % if user.role == 'customer':
  <p>Your name and address are removed and you can no longer log in or download your purchases.
    Your orders and invoices stay in the shop's books, without your name or address.</p>
  <form method="post" action="/account/delete" class="stack">
    <input type="hidden" name="csrf_token" value="{{csrf_token}}">
    % include('_field.tpl', name='current_password', field_id='delete-current-password', label='Current password', type='password', value='', required=True, attrs='autocomplete="current-password"', errors=mine('delete'))
    <button class="button button-danger" type="submit">Delete my account</button>
  </form>
  % else:
  <p class="muted">A seller or admin account is closed by the shop's team, so that products and balances are settled first.</p>
  % end
</section>
