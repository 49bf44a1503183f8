% # base_query: an already encoded query string ending in '&', or ''.
% if page.pages > 1:
<nav class="pager" aria-label="Pages">
  % if page.has_prev:
  <a href="?{{base_query}}page={{page.number - 1}}" rel="prev">← Previous</a>
  % end
  <span>Page {{page.number}} of {{page.pages}}</span>
  % if page.has_next:
  <a href="?{{base_query}}page={{page.number + 1}}" rel="next">Next →</a>
  % end
</nav>
% end
