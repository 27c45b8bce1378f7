"""Container image test tier (see tests/image/test_image.py)."""


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "image: runs the built container image through docker, kpt and kubectl kustomize; "
        "needs INJECT_DOCKER_IMAGE_TESTS=1 and an image built by tests/image/build-local.sh",
    )
