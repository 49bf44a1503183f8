% rebase('base.tpl')
<section class="panel narrow center">
  <p class="eyebrow">Error {{status_code}}</p>
  <h1>{{ {400: "That request could not be handled", 401: "Please log in", 403: "Not allowed", 404: "Not found", 405: "Not allowed", 410: "No longer available", 411: "Length required", 413: "Too large", 429: "Slow down"}.get(status_code, "Something went wrong") }}</h1>
  <p>{{message}}</p>
  <p><a class="button" href="/">Back to the shop</a></p>
</section>
