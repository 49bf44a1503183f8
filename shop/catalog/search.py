"""Search of the catalog: products whose title or description contains every word."""

from models import Product


class Matches:
    def __init__(self, text):
        self.words = text.split()[:8]

    def restrict(self, query):
        # contains() escapes LIKE's wildcards, so a search for % or _ finds those characters.
        for word in self.words:
            query = query.where(Product.title.contains(word) | Product.description.contains(word))
        return query

    def by_rank(self, query):
        return query.order_by(Product.approved_at.desc(), Product.id.desc())


def matches(text):
    return Matches(text)
