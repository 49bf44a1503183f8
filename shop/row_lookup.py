"""One row by one column's value, with its SQL built once per model and column.

`Model.get(Model.column == value)`, and with it `get_by_id` and `get_or_none`, is the
shop's most frequent query: a purchase makes dozens. peewee builds the statement anew
each time, column by column, and for a table as wide as the order's that took longer
than running it (0.1 to 0.5 ms, a sixth of a purchase's consumer time). The statement
here is the one peewee builds, made by peewee once with a marker where the value goes;
the row comes back through the same query's own row reader, so the instance is what
peewee would have given.
"""

from peewee import OP, Expression, Field, ForeignKeyField, Node, Value, is_model

_MARKER = object()
# (model, column, kind of database) -> (query, sql, params, index of the value in params)
_statements = {}


def single_equality(model, query):
    """(field, value) when the arguments of `model.get` are exactly `model.field == value`, else None."""
    if len(query) != 1:
        return None
    expression = query[0]
    if isinstance(expression, int) and not isinstance(expression, bool) and model._meta.auto_increment:
        return model._meta.primary_key, expression  # peewee's own shorthand: Model.get(5)
    if not isinstance(expression, Expression) or expression.op != OP.EQ:
        return None  # `field == None` is OP.IS, and anything else is not this shape
    field, value = expression.lhs, expression.rhs
    if not isinstance(field, Field) or field.model is not model:
        return None  # an alias's or another model's field needs a join
    if isinstance(field, ForeignKeyField) and isinstance(value, field.rel_model):
        return field, value  # a row of the related model stands for its key
    if isinstance(value, (Node, list, tuple, set, frozenset)) or is_model(value):
        return None
    return field, value


def _statement(model, field):
    database = model._meta.database
    key = (model, field.name, type(getattr(database, "obj", database)))  # a proxy's database, or the bound one
    found = _statements.get(key)
    if found is None:
        # What Model.get builds: the row by the column's value, LIMIT 1 OFFSET 0.
        query = model.select().where(field == Value(_MARKER, converter=False)).paginate(1, 1)
        sql, params = query.sql()
        found = _statements[key] = (query, sql, tuple(params), params.index(_MARKER))
    return found


def get(model, field, value):
    """The first row whose `field` equals `value`, as peewee's Model.get gives it; raises DoesNotExist."""
    query, sql, params, index = _statement(model, field)
    params = list(params)
    params[index] = field.db_value(value)
    rows = query._get_cursor_wrapper(model._meta.database.execute_sql(sql, params))
    try:
        return rows[0]
    except IndexError:
        raise model.DoesNotExist(f"{model} instance matching query does not exist:\n"
                                 f"SQL: {sql}\nParams: {params}") from None
