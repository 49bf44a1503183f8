% rebase('base.tpl')
<section class="page-head storefront-head">
  % avatar = profile.avatar_url(96)
  % if avatar:
  <img class="avatar" src="{{avatar}}" alt="" width="96" height="96">
  % else:
  <div class="avatar avatar-placeholder" aria-hidden="true"><span>{{seller.name[:1].upper()}}</span></div>
  % end
  <div>
    <h1>{{seller.name}}</h1>
    <p class="muted">{{page.total}} product{{'' if page.total == 1 else 's'}} on sale</p>
  </div>
</section>
% if profile.bio:
<div class="description storefront-bio">
  % for paragraph in profile.bio.split('\n\n'):
  <p>{{paragraph}}</p>
  % end
</div>
% end
% if not page.items:
<div class="empty"><p>{{seller.name}} has nothing on sale at the moment.</p></div>
% else:
<div class="grid">
  % for product in page.items:
  % include('_product_card.tpl', product=product, card_tags=tags.get(product.id, ()))
  % end
</div>
% include('_pager.tpl', page=page, base_query=base_query)
% end
