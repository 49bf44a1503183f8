<article class="card product-card">
  <a href="/products/{{product.slug}}" class="card-link">
    % thumb = product.thumbnail_url(480)
    % if thumb:
    <img class="thumb" src="{{thumb}}" alt="" loading="lazy" width="480" height="360">
    % else:
    <div class="thumb thumb-placeholder" aria-hidden="true"><span>{{product.title[:1].upper()}}</span></div>
    % end
    <div class="card-body">
      <h2 class="card-title">{{product.title}}</h2>
      <p class="price">{{money(product.price, product.currency)}}
        % if product.id in get('owned_ids', ()):
        <span class="badge badge-paid">Owned</span>
        % end
      </p>
    </div>
  </a>
  <p class="card-meta card-seller">by <a href="{{product.seller.storefront_path}}">{{product.seller.name}}</a></p>
  % if get('card_tags'):
  <p class="card-tags">
    % for tag in card_tags:
    <a class="tag-chip" href="/?tag={{tag.slug}}">#{{tag.name}}</a>
    % end
  </p>
  % end
</article>
