# Huntaze: one container, one binary. Build with `docker build -t huntaze .`
#
# Stage 1 builds the release binary with the same scripts/bootstrap that
# developers use; stage 2 carries only the runtime libraries.
FROM debian:12 AS build
WORKDIR /src
COPY scripts/bootstrap scripts/bootstrap
RUN scripts/bootstrap
COPY . .
RUN cmake --preset release && cmake --build build/release \
 && strip build/release/huntaze

FROM debian:12-slim AS runtime
RUN apt-get update -qq \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      ca-certificates libpq5 libhiredis0.14 libcurl4 libssl3 libyaml-cpp0.7 libspdlog1.10 libfmt9 libdate-tz3 tzdata \
      libboost-json1.81.0 libboost-url1.81.0 libboost-container1.81.0 \
      libavformat59 libavcodec59 libavutil57 libswscale6 libswresample4 libargon2-1 \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin huntaze \
 && mkdir -p /etc/huntaze /var/lib/huntaze && chown huntaze /var/lib/huntaze
COPY --from=build /src/build/release/huntaze /usr/local/bin/huntaze
COPY config/huntaze.yaml /etc/huntaze/huntaze.yaml
USER huntaze
ENV HUNTAZE_CONFIG=/etc/huntaze/huntaze.yaml \
    HUNTAZE_SERVER_HOST=0.0.0.0
EXPOSE 8080
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["huntaze", "healthcheck", "--url", "http://127.0.0.1:8080/healthz"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["huntaze"]
CMD ["serve"]
