% rebase('base.tpl')
<section class="page-head">
  % if q:
  <h1>Results for “{{q}}”</h1>
  <p class="muted">{{page.total}} product{{'' if page.total == 1 else 's'}} found. <a href="/">Show everything</a></p>
  % else:
  <h1>Digital products</h1>
  <p class="muted">Templates, e-books, music and more from independent sellers. Instant download after payment.</p>
  % end
</section>
% if not page.items:
<div class="empty">
  <p>{{"Nothing matches your search." if q else "No products are on sale yet."}}</p>
</div>
% else:
<div class="grid">
  % for product in page.items:
  % include('_product_card.tpl', product=product)
  % end
</div>
% include('_pager.tpl', page=page, base_query=base_query)
% end
