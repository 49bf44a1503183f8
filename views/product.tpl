% rebase('base.tpl')
<article class="product-page">
  <div class="product-media">
    % thumb = product.thumbnail_url(960)
    % if thumb:
    <img src="{{thumb}}" alt="{{product.title}}" width="960" height="720">
    % else:
    <div class="thumb thumb-placeholder large" aria-hidden="true"><span>{{product.title[:1].upper()}}</span></div>
    % end
  </div>
  % if get('previews'):
  <div class="product-previews">
    % for preview in previews:
    <a href="{{preview.url(960)}}"><img src="{{preview.url(480)}}" alt="{{'First page' if preview.kind == 'pdf_page' else 'Preview'}} of {{product.title}}" width="240" loading="lazy"></a>
    % end
  </div>
  % end
  <div class="product-info">
    <h1>{{product.title}}</h1>
    <p class="muted">by <a href="{{product.seller.storefront_path}}">{{product.seller.name}}</a></p>
    % if product.pay_what_you_want:
    <p class="price large">{{'Free, or pay what you want' if product.min_price == 0 else 'From ' + money(product.min_price, product.currency)}}</p>
    % else:
    <p class="price large">{{money(product.price, product.currency)}}</p>
    % end
    % if user is not None and user.role == 'customer' and owned:
    <p class="owned"><span class="badge badge-paid">In your library</span> <a href="/purchases">Download it from your purchases</a></p>
    % elif user is None and owned:
    <p class="owned"><span class="badge badge-paid">Bought</span> The links are in your receipt email.</p>
    % elif user is None or user.role == 'customer':
    <form method="post" action="/cart/add">
      <input type="hidden" name="csrf_token" value="{{csrf_token}}">
      <input type="hidden" name="product_id" value="{{product.id}}">
      % if product.pay_what_you_want:
      <label for="chosen-price">Name your price ({{product.currency}}, at least {{money(product.min_price, product.currency)}})</label>
      <input id="chosen-price" type="text" name="chosen_price" inputmode="decimal" value="{{money_text(product.price, product.currency)}}">
      <p class="muted small">Suggested: {{money(product.price, product.currency)}}</p>
      % end
      <button class="button" type="submit">Add to cart</button>
    </form>
    % if user is None:
    <p class="muted small">No account needed: check out with your email address, or <a href="/login?next=/products/{{product.slug}}">log in</a>.</p>
    % end
    % end
    <div class="description">
      % for paragraph in product.description.split('\n\n'):
      <p>{{paragraph}}</p>
      % end
    </div>
    % if product.category_id or get('tags'):
    <p class="product-shelf small">
      % if product.category_id:
      <a href="/?category={{product.category.slug}}">{{product.category.name}}</a>
      % end
      % for tag in get('tags', ()):
      <a class="tag-chip" href="/?tag={{tag.slug}}">#{{tag.name}}</a>
      % end
    </p>
    % end
    % if len(get('files', ())) > 1:
    <p class="muted small">Digital download · {{len(files)}} files, {{filesize(sum(f.size for f in files))}}</p>
    <ul class="product-files muted small">
      % for product_file in files:
      <li>{{product_file.name}} · {{filesize(product_file.size)}}</li>
      % end
    </ul>
    % else:
    <p class="muted small">Digital download · {{filesize(product.file_size)}} · {{product.file_name or ''}}</p>
    % end
  </div>
</article>
