"""The JSON API's domain: personal access tokens, errors with stable codes, declared
parameters, cursors, the rate limit, the resources each user may read, and the OpenAPI
document built from the same declarations the routes use."""
