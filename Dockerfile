# One image for every dangjian service; the compose file picks the service with `--only`.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock pyproject.toml ./
COPY shared ./shared
COPY services ./services
RUN pip install --no-cache-dir -c requirements.lock . && useradd --system dangjian
USER dangjian
ENV DANGJIAN_DATA_DIR=/tmp/dangjian
ENTRYPOINT ["dangjian"]
