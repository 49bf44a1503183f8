"""The ceiling for the catalog benchmark: a minimal Bottle page (a template with a
loop, no database) served by the same gunicorn setup. `gunicorn bench.ceiling:app`."""

from bottle import Bottle, SimpleTemplate

app = Bottle()
_page = SimpleTemplate("<!doctype html><title>{{title}}</title><ul>\n"
                       "% for i in range(12):\n<li>Product {{i}}</li>\n% end\n</ul>")


@app.get("/")
def index():
    return _page.render(title="Minimal page")
