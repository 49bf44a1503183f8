% rebase('base.tpl')
% kinds = {'product_approved': ('approved', 'Approved'), 'product_rejected': ('rejected', 'Not approved')}
<section class="page-head">
  <h1>Notifications</h1>
  <p class="muted">Decisions about your products and other news from {{app_name}}. Each one is also sent to {{user.email}}.</p>
</section>
% if not entries:
<div class="empty">
  <p>No notifications yet. When something happens that concerns you, it appears here.</p>
</div>
% else:
<ul class="notice-list">
  % for item, (headline, detail, link), unread in entries:
  <li class="notice notice-{{item.type.replace('_', '-')}}{{' unread' if unread else ''}}">
    <div class="notice-meta">
      % kind = kinds.get(item.type)
      % if kind:
      <span class="badge badge-{{kind[0]}}">{{kind[1]}}</span>
      % end
      % if unread:
      <span class="badge badge-new">New</span>
      % end
      <time class="muted small" datetime="{{item.created_at.isoformat()}}Z">{{item.created_at.strftime('%d %b %Y, %H:%M')}} UTC</time>
    </div>
    <p class="notice-title">
      % if link:
      <a href="{{link}}">{{headline}}</a>
      % else:
      {{headline}}
      % end
    </p>
    % if detail:
    <blockquote class="notice-detail">{{detail}}</blockquote>
    % end
  </li>
  % end
</ul>
% include('_pager.tpl', page=page, base_query=base_query)
% end
