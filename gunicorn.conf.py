"""gunicorn's settings for this app, read from the working directory by default
(`gunicorn wsgi:app` in the repository, as the README, the consumers and bench run it).

The request line is not limited by gunicorn's 8190 bytes: the app refuses URLs past
cms.api.screening.MAX_URL_BYTES itself, with a problem+json 414 the spec documents,
where gunicorn's own 414 (from 4094 bytes by default, 8190 at most) is an HTML page no
client expects (schemathesis sent a 13 KB URL). 0 lets lines through up to gunicorn's
own hard cap of 1 MB per line, which bounds what one request may make it buffer.
"""

limit_request_line = 0
