% rebase('base.tpl')
<section class="page-head">
  % if q:
  <h1>Results for “{{q}}”</h1>
  % if page.capped:
  <p class="muted">More than {{"{:,}".format(page.total)}} products found. <a href="/">Show everything</a></p>
  % else:
  <p class="muted">{{page.total}} product{{'' if page.total == 1 else 's'}} found. <a href="/">Show everything</a></p>
  % end
  % elif filters.category:
  <h1>{{filters.category.name}}</h1>
  <p class="muted">{{page.total}} product{{'' if page.total == 1 else 's'}}. <a href="/">Show everything</a></p>
  % elif filters.tag:
  <h1>Tagged “{{filters.tag.name}}”</h1>
  <p class="muted">{{page.total}} product{{'' if page.total == 1 else 's'}}. <a href="/">Show everything</a></p>
  % else:
  <h1>Digital products</h1>
  <p class="muted">Templates, e-books, music and more from independent sellers. Instant download after payment.</p>
  % end
</section>
% if error_message:
<div class="flash flash-error" role="alert">{{error_message}}</div>
% end
<form class="catalog-filters" method="get" action="/" aria-label="Filter and sort">
  % if q:
  <input type="hidden" name="q" value="{{q}}">
  % end
  % if filters.tag:
  <input type="hidden" name="tag" value="{{filters.tag.slug}}">
  % end
  % if categories:
  <label>Category
    <select name="category">
      <option value="">All categories</option>
      % for category in categories:
      <option value="{{category.slug}}"{{!' selected' if filters.category and filters.category.id == category.id else ''}}>{{category.name}}</option>
      % end
    </select>
  </label>
  % end
  <label>Price from <input name="min" inputmode="decimal" size="6" value="{{browse.amount_text(filters.min_price)}}"></label>
  <label>to <input name="max" inputmode="decimal" size="6" value="{{browse.amount_text(filters.max_price)}}"></label>
  <label>Sort
    <select name="sort">
      % for value, label in browse.sort_choices(q):
      <option value="{{value}}"{{!' selected' if filters.sort == value else ''}}>{{label}}</option>
      % end
    </select>
  </label>
  <button class="button button-secondary" type="submit">Apply</button>
  % if filters.tag:
  <a class="tag-chip" href="/?{{browse.query_string(filters, tag=None)}}" title="Remove this tag">#{{filters.tag.name}} ×</a>
  % end
</form>
% if not page.items:
<div class="empty">
  <p>{{"Nothing matches your search." if q else ("Nothing matches these filters." if browse.is_filtered(filters) else "No products are on sale yet.")}}</p>
</div>
% else:
<div class="grid">
  % for product in page.items:
  % include('_product_card.tpl', product=product, card_tags=tags.get(product.id, ()))
  % end
</div>
% include('_pager.tpl', page=page, base_query=base_query)
% end
