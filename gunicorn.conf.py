"""gunicorn's settings for this app, read from the working directory by default
(`gunicorn wsgi:app` in the repository, as the README, the consumers and bench run it).

The request line may be as long as gunicorn allows: the app refuses URLs past
cms.api.screening.MAX_URL_BYTES itself, with a problem+json 414 the spec documents,
where gunicorn's own 414 (from 4094 bytes by default) is an HTML page no client expects.
"""

limit_request_line = 8190  # gunicorn's maximum
