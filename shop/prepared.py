"""The statements peewee builds for the shop's two most frequent queries, built once.

A row read by one column's value (`Model.get(Model.column == value)`, and with it
`get_by_id` and `get_or_none`), and a new row's INSERT (`Model.create`, and `save` of a
row not yet stored): a purchase makes dozens of each. peewee builds a statement anew
each time, column by column, and for a table as wide as the order's that took longer
than running it (0.1 to 0.5 ms). Here peewee builds it once per model and columns, with
a marker where each value goes; a read's row comes back through the same query's own
row reader, so the instance is what peewee would have given, and an insert leaves the
instance as peewee's save does. Anything of another shape goes to peewee as before.
"""

from peewee import OP, Expression, Field, ForeignKeyField, Node, Value, is_model

_MARKER = object()
# (model, column, kind of database) -> (query, sql, params, index of the value in params)
_statements = {}
# (model, columns, kind of database) -> (sql, column of each parameter, returns the key), or None
_inserts = {}


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


def _database_kind(model):
    database = model._meta.database
    return type(getattr(database, "obj", database))  # a proxy's database, or the one bound


def _statement(model, field):
    key = (model, field.name, _database_kind(model))
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


def _insert_statement(model, names):
    key = (model, names, _database_kind(model))
    if key in _inserts:
        return _inserts[key]
    meta = model._meta
    markers = [Value(object(), converter=False) for _ in names]
    query = model.insert({meta.fields[name]: marker for name, marker in zip(names, markers)})
    returns_key = bool(meta.database.returning_clause)
    if returns_key:
        query = query.returning(meta.primary_key)
    sql, params = query.sql()
    position = {id(marker.value): index for index, marker in enumerate(markers)}
    if len(params) == len(names) and all(id(param) in position for param in params):
        found = (sql, [names[position[id(param)]] for param in params], returns_key)
    else:
        found = None  # peewee added a value of its own (a default): not a statement to keep
    _inserts[key] = found
    return found


def insert(instance):
    """Store a new row as `Model.save` does (the key read back, the fields no longer dirty);
    returns 1, or None when the model or row is not of the plain shape (peewee saves those)."""
    meta = type(instance)._meta
    if meta.primary_key is False or meta.composite_key or meta.only_save_dirty:
        return None
    fields = instance.__data__.copy()
    instance._populate_unsaved_relations(fields)
    key_before = instance._pk
    if meta.auto_increment and key_before is None:
        fields.pop(meta.primary_key.name, None)
    if not fields or any(isinstance(value, Node) for value in fields.values()):
        return None  # nothing to insert, or SQL of the caller's own (fn.NOW(), a subquery) to write in
    statement = _insert_statement(type(instance), tuple(sorted(fields)))
    if statement is None:
        return None
    sql, columns, returns_key = statement
    cursor = meta.database.execute_sql(sql, [meta.fields[name].db_value(fields[name]) for name in columns])
    if returns_key:
        row = cursor.fetchone()
        new_key = meta.primary_key.python_value(row[0]) if row else None
    else:
        new_key = cursor.lastrowid
    if new_key is not None and (meta.auto_increment or key_before is None):
        instance._pk = new_key
        instance._dirty.discard(meta.primary_key.name)
    instance._dirty -= set(fields)
    return 1
