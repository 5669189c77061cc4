"""What runs beside a connected adapter and shows how it is doing: the knowledge watcher, the digest
scheduler and the heartbeat (`background`), metrics and health endpoints, logs, per-user limits.

Nothing is imported here, so the storage can count its errors (`bot.service.metrics`) without pulling in
the bot: import each module by its own name.
"""
