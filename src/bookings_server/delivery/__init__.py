"""Delivery adapters: the senders the outbox worker delivers through.

`webhooks.py` posts items to a site's endpoints, signed per Standard Webhooks; `smtp.py`
mails participant notifications; `routing.py` composes them by item kind from the
configuration. They implement app/outbox_delivery.py's `Sender` protocol and are wired in by
the commands that run the worker (cli/), so app/ never imports HTTP or SMTP code.
"""
