# Minimal "function" that returns its input unchanged: the baseline for
# container start-up cost in benchmarks. Same base as the function image.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}
USER 65534:65534
ENTRYPOINT ["cat"]
