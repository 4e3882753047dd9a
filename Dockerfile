# The kolmarket image: the API, the migrations and the worker share it.
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy
WORKDIR /app
RUN pip install --no-cache-dir uv==0.13.9
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --frozen --no-install-project --no-editable
COPY contracts ./contracts
COPY pricing ./pricing
COPY services ./services
COPY migrations ./migrations
RUN uv sync --frozen --no-editable
ENV PATH="/app/.venv/bin:$PATH" LOG_FORMAT=json HOST=0.0.0.0 PORT=8000
RUN useradd --system --uid 10001 kolmarket \
    && mkdir -p /var/lib/kolmarket/clicks && chown -R kolmarket /var/lib/kolmarket
USER kolmarket
EXPOSE 8000
CMD ["kolmarket", "serve", "--no-migrate"]
