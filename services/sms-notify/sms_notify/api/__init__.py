"""sms-notify's HTTP API, one module per subject (each one blueprint, ``blp``): HTTP in, the
schemas at the edge, a use case called. app.py registers ``BLUEPRINTS``."""

from sms_notify.api import admin, balance, conversations, me, providers, subscriptions

BLUEPRINTS = [me.blp, admin.blp, providers.blp, subscriptions.blp, balance.blp, conversations.blp]
