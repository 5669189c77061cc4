# syntax=docker/dockerfile:1
# Build stage: install the bot and its dependencies into a virtual environment, with the knowledge baked in.
FROM python:3.11-slim AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md LICENSE ./
COPY knowledge ./knowledge
COPY bot ./bot
COPY adapters ./adapters
# The same install step as the README's run command (tests/test_dockerfile.py keeps them identical).
RUN python3 -m venv .venv && .venv/bin/pip install .

# Runtime stage: the slim base and the virtual environment only, no build tools, running as a non-root user.
FROM python:3.11-slim
ENV PATH=/app/.venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    BOT_PLATFORM=console \
    DATA_DIR=/data
RUN useradd --create-home --uid 10001 bot && mkdir -p /data && chown bot:bot /data
COPY --from=build /app/.venv /app/.venv
USER bot
WORKDIR /data
VOLUME ["/data"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 CMD ["keynote-bot", "health"]
# Starts BOT_PLATFORM: the console by default, which needs `docker run -it` (or piped input with -i).
# Without either, and for Slack or Discord without BOT_PLATFORM and their tokens (docker run --env-file
# .env, see .env.example), it names what to set and exits 2 instead of ending silently.
CMD ["keynote-bot", "run"]
