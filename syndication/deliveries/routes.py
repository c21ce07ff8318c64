"""The web routes the channels need, for ``syndicate serve`` to mount in one call:

    from syndication.deliveries.routes import channel_routes
    app = Starlette(routes=[*review_routes, *channel_routes(ctx)])

- every ``newsletter`` channel: its one-click unsubscribe endpoint, at the path of its
  ``unsubscribe_url_base``, checking links with its ``secret``;
- every ``feed`` channel: its Atom feeds and pages, at the path of its ``base_url``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from syndication.errors import ConfigError

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from syndication.context import RunContext


def channel_routes(ctx: RunContext) -> list[BaseRoute]:
    from syndication.context import channel_secrets
    from syndication.deliveries.feed import FeedChannel, feed_routes, url_path
    from syndication.deliveries.newsletter import NewsletterSettings
    from syndication.deliveries.outgoing import env_var
    from syndication.deliveries.unsubscribe import unsubscribe_routes

    routes: list[BaseRoute] = []
    for name, config in ctx.settings.channels.items():
        if not config.enabled:
            continue
        options = config.model_dump()
        if config.type == "newsletter":
            secrets = channel_secrets(name, options)
            settings = NewsletterSettings.model_validate(options)
            secret = secrets.get("secret")
            if not secret:
                raise ConfigError(
                    f"cannot serve unsubscribe links without {env_var(name, 'secret')}", channel=name
                )
            routes += unsubscribe_routes(ctx.store, secret, path=url_path(settings.unsubscribe_url_base))
        elif config.type == "feed":
            from syndication.deliveries.channel import ChannelContext

            channel = FeedChannel(ChannelContext(name=name, config=options, base_dir=ctx.settings.base_dir))
            routes += feed_routes(channel.folder, path=url_path(channel.base_url))
    return routes
