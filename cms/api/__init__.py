"""The HTTP API: one package per resource, each with its routes and schemas. The
blueprints are listed in cms.api.registry; cms.api.framework holds the conventions."""
