% # base_query: an already encoded query string ending in '&', or ''.
% if page.pages > 1:
<nav class="pager" aria-label="Pages">
  % if page.has_prev:
  <a href="?{{base_query}}page={{page.number - 1}}" rel="prev">← Previous</a>
  % end
  % if page.capped:
  <span>Page {{page.number}} of more than {{page.pages}}</span>
  % else:
  <span>Page {{page.number}} of {{page.pages}}</span>
  % end
  % if page.has_next:
  <a href="?{{base_query}}page={{page.number + 1}}" rel="next">Next →</a>
  % end
</nav>
% end
