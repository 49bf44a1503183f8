"""A job's arguments as stored on its record: JSON, or a cipher's token when the job is encrypted."""

import json

from job_runtime import context


def _cipher():
    if context.state.cipher is None:
        raise RuntimeError("encrypted jobs need a cipher: pass one to job_runtime.setup()")
    return context.state.cipher


def encode_payload(args, kwargs, encrypted):
    try:
        text = json.dumps([list(args), kwargs], separators=(",", ":"))
    except TypeError as exc:
        raise TypeError(f"job arguments must be JSON values (ids, strings), not objects: {exc}") from None
    if encrypted:
        return _cipher().encrypt(text.encode("utf-8")).decode("ascii")
    return text


def decode_payload(payload, encrypted):
    if encrypted:
        payload = _cipher().decrypt(payload.encode("ascii")).decode("utf-8")
    args, kwargs = json.loads(payload)
    return tuple(args), kwargs
