"""Hypothesis strategies: ResourceLists written out as text in many YAML styles.

Each example is a `Generated`: the TEXT the function reads, and the plain data it
must parse to. The text is written here, line by line, and never by a YAML
library's dumper: a dumper writes one house style, and the function's bugs live
in the styles people write by hand and other tools emit. The value is built
first and the text is chosen to mean it, so a test can compare meanings without
trusting the function's own reader; `resource_lists` checks every text against
its value with libyaml (or json) before handing it out, so a test failure is
never a generator mistake blamed on the function.

What varies, by drawn percentages per document (each shrinks to "off", so a
failure shrinks to the plainest text that still shows it):

- block and flow collections, single-line and multi-line flow with comments inside;
- plain, single-quoted and double-quoted scalars (with \\u escapes), quoted and
  explicit (`? key`) keys, booleans written `yes` or `True`;
- comments on their own lines (before entries, under the last entry of a list,
  at column 0) and after values;
- sequences indentless (`- ` at the key's column) or indented, nested indentation
  of 2 or 4, the items' dashes at column 0 or 2, compact (`- - a`) entries;
- block scalars with every chomping indicator (`|`, `|-`, `|+`, `>`, `>-`, `>+`),
  with trailing blank lines, also at the very end of the list;
- anchors and aliases, scoped to one item or shared across items;
- CRLF line endings, a UTF-8 byte order mark, a missing final newline, `---`;
- the JSON form (indented or on one line, ASCII-escaped or not).

Resources: Pods, Jobs and CronJobs that use Docker (the function changes them),
and ConfigMaps, Services, Deployments, opted-out Pods and CRD-like kinds that it
must leave alone. Every one is valid for Kubernetes (DNS-1123 names, containers
with a name and an image), so schema validation of the output means something.
An optional functionConfig is a ConfigMap whose `data.mode` picks the mode.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any

import yaml
from hypothesis import strategies as st

from function.yamltext.normalize import is_json

API_VERSION = "config.kubernetes.io/v1"
DOCKER_CLI = "docker:29.8.0-cli"
MODES = ("sidecar", "daemonset", "audit")
INJECT_ANNOTATION = "inject-docker.dev/inject"
MODE_ANNOTATION = "inject-docker.dev/mode"
# The groups each default workload kind is served from: `example.dev/v1 Pod` is a CRD.
WORKLOADS = {"Pod": "v1", "Job": "batch/v1", "CronJob": "batch/v1"}

# ---------------------------------------------------------------------------
# Values: the resources, as plain data.

# Strings that need care in YAML: booleans and numbers of YAML 1.1, indicators,
# `: ` and ` #` inside, leading and trailing spaces, non-ASCII, a tab.
WORDS = [
    "ci",
    "hello world",
    "yes",
    "no",
    "on",
    "off",
    "true",
    "False",
    "null",
    "~",
    "0123",
    "1.5",
    "1e3",
    "0x1F",
    "12:30",
    "2024-01-01",
    "a: b",
    "x #y",
    "x# y",
    "- dash",
    "[x]",
    "{y}",
    "@at",
    "`tick",
    "'single'",
    '"double"',
    "50%",
    "*star",
    "&amp",
    "!bang",
    "|pipe",
    ">gt",
    "?q",
    ":colon",
    "key=value",
    "a, b",
    "ends:",
    "#hash",
    "back\\slash",
    "tab\there",
    "",
    " lead",
    "trail ",
    "Grüße",
    "日本語テキスト",
    "🐳 whale",
    "naïve café",
    "Ωmega",
]
# Multi-line strings, the stuff of block scalars: blank lines inside and at the
# end, a more-indented line, `# ` and `- ` that are text, no final line break.
SCRIPTS = [
    "docker build -t app:${GIT_SHA} .\ndocker push app:${GIT_SHA}\n",
    "echo 'done' # not a comment\n",
    "set -e\n\nmake test\n",
    "key: value\n- not a list\n",
    "echo hi\n\n\n",
    "line one\nline two",
    "if true; then\n  echo indented\nfi\n",
    "Grüße aus Köln 🐳\n",
    "one long line that the folded style may break at its spaces\n",
    "trailing\n\n",
    "docker info",
]
TEXTS = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(SCRIPTS),
    st.text(st.characters(categories=("L", "N")), min_size=1, max_size=8),
)
NAMES = st.builds(
    lambda base, n: f"{base}-{n}" if n else base,
    st.sampled_from(["build", "test", "nightly", "release", "docs", "e2e", "settings", "web"]),
    st.integers(0, 20),
)
LABELS = st.sampled_from(
    [
        {"app": "ci"},
        {"app": "ci", "team": "build"},
        {"app.kubernetes.io/name": "builder", "tier": "true"},
    ]
)
IMAGES = st.sampled_from([DOCKER_CLI, DOCKER_CLI, "alpine:3.20", "busybox:1.36"])
VOLUMES = {
    "workspace": {"name": "workspace", "emptyDir": {}},
    "cache": {"name": "cache", "emptyDir": {"sizeLimit": "1Gi"}},
    "settings": {"name": "settings", "configMap": {"name": "settings"}},
}


@st.composite
def metadata(draw: st.DrawFn, annotations: dict[str, str] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"name": draw(NAMES)}
    if draw(st.booleans()):
        meta["namespace"] = draw(st.sampled_from(["ci", "build", "default"]))
    if draw(st.booleans()):
        meta["labels"] = draw(LABELS)
    notes = dict(annotations or {})
    if draw(st.booleans()):
        notes["example.dev/note"] = draw(TEXTS)
    if notes:
        meta["annotations"] = notes
    return meta


@st.composite
def containers(
    draw: st.DrawFn, names: list[str], volumes: list[str], images: st.SearchStrategy[str] = IMAGES
) -> list[dict[str, Any]]:
    out = []
    for name in names:
        container: dict[str, Any] = {"name": name, "image": draw(images)}
        if draw(st.booleans()):
            container["command"] = ["sh", "-c"]
            container["args"] = [draw(st.one_of(st.sampled_from(SCRIPTS), TEXTS))]
        if draw(st.booleans()):
            env_names = draw(
                st.lists(st.sampled_from(["GIT_SHA", "CI", "LANG", "MESSAGE"]), unique=True)
            )
            container["env"] = [{"name": n, "value": draw(TEXTS)} for n in env_names]
        mounted = draw(st.lists(st.sampled_from(volumes), unique=True)) if volumes else []
        if mounted:
            container["volumeMounts"] = [{"name": v, "mountPath": f"/{v}"} for v in mounted]
            if draw(st.booleans()):
                container["volumeMounts"][0]["readOnly"] = True
        if draw(st.integers(0, 3)) == 3:
            container["resources"] = {"limits": {"memory": "1Gi", "cpu": "500m"}}
        if draw(st.integers(0, 3)) == 3:
            container["ports"] = [{"containerPort": 8080, "protocol": "TCP"}]
        out.append(container)
    return out


@st.composite
def pod_specs(draw: st.DrawFn, restart: str | None = "Never", clash: bool = True) -> dict[str, Any]:
    volumes = draw(st.lists(st.sampled_from(sorted(VOLUMES)), unique=True))
    names = draw(
        st.lists(
            st.sampled_from(["build", "test", "push", "lint", "helper"]),
            min_size=1,
            max_size=3,
            unique=True,
        )
    )
    spec: dict[str, Any] = {}
    if draw(st.integers(0, 3)) == 3:
        init = draw(st.sampled_from(["fetch", "prepare"]))
        spec["initContainers"] = draw(containers([init], volumes, st.just("alpine:3.20")))
    spec["containers"] = draw(containers(names, volumes))
    if volumes:
        spec["volumes"] = [VOLUMES[v] for v in volumes]
    # Now and then a name the sidecar wants is taken: an error result, and exit code 1.
    if clash and draw(st.integers(0, 19)) == 19:
        spec.setdefault("volumes", []).append({"name": "dind-storage", "emptyDir": {}})
    if restart:
        spec["restartPolicy"] = restart
    if draw(st.integers(0, 3)) == 3:
        spec["securityContext"] = {"runAsNonRoot": True, "runAsUser": 1000, "fsGroup": 2000}
    if draw(st.integers(0, 3)) == 3:
        spec["nodeSelector"] = {"kubernetes.io/os": "linux"}
    if draw(st.integers(0, 4)) == 4:
        spec["terminationGracePeriodSeconds"] = 30
    return spec


def _workload_annotations(draw: st.DrawFn) -> dict[str, str]:
    if draw(st.integers(0, 5)) == 5:
        return {MODE_ANNOTATION: draw(st.sampled_from(["sidecar", "daemonset"]))}
    return {}


@st.composite
def pods(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": draw(metadata(_workload_annotations(draw))),
        "spec": draw(pod_specs(draw(st.sampled_from(["Never", "OnFailure", "Always", None])))),
    }


@st.composite
def opted_out_pods(draw: st.DrawFn) -> dict[str, Any]:
    pod = draw(pods())
    pod["metadata"].setdefault("annotations", {})[INJECT_ANNOTATION] = "false"
    return pod


@st.composite
def job_specs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {}
    if draw(st.booleans()):
        spec["backoffLimit"] = draw(st.integers(0, 6))
    template: dict[str, Any] = {}
    if draw(st.booleans()):
        template["metadata"] = {"labels": draw(LABELS)}
    template["spec"] = draw(pod_specs(draw(st.sampled_from(["Never", "OnFailure"]))))
    spec["template"] = template
    return spec


@st.composite
def jobs(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": draw(metadata(_workload_annotations(draw))),
        "spec": draw(job_specs()),
    }


@st.composite
def cronjobs(draw: st.DrawFn) -> dict[str, Any]:
    spec: dict[str, Any] = {"schedule": draw(st.sampled_from(["*/15 * * * *", "0 3 * * 1-5"]))}
    if draw(st.booleans()):
        spec["concurrencyPolicy"] = "Forbid"
    spec["jobTemplate"] = {"spec": draw(job_specs())}
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": draw(metadata(_workload_annotations(draw))),
        "spec": spec,
    }


@st.composite
def configmaps(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(
        st.lists(
            st.sampled_from(
                ["script.sh", "on", "yes", "config.json", "MESSAGE", "a-b_c.d", "true"]
            ),
            unique=True,
        )
    )
    out: dict[str, Any] = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": draw(metadata())}
    if keys:
        out["data"] = {k: draw(TEXTS) for k in keys}
    return out


@st.composite
def services(draw: st.DrawFn) -> dict[str, Any]:
    port: dict[str, Any] = {"name": "http", "port": 80, "targetPort": 8080}
    if draw(st.booleans()):
        port["protocol"] = "TCP"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": draw(metadata()),
        "spec": {"selector": draw(LABELS), "ports": [port]},
    }


@st.composite
def deployments(draw: st.DrawFn) -> dict[str, Any]:
    labels = draw(LABELS)
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": draw(metadata()),
        "spec": {
            "replicas": draw(st.integers(1, 3)),
            "selector": {"matchLabels": dict(labels)},
            "template": {"metadata": {"labels": dict(labels)}, "spec": draw(pod_specs(None))},
        },
    }


@st.composite
def custom_resources(draw: st.DrawFn) -> dict[str, Any]:
    """A CRD-like kind that holds containers, sometimes named like a workload."""
    return {
        "apiVersion": "example.dev/v1alpha1",
        "kind": draw(st.sampled_from(["BuildRun", "Pod", "Job"])),
        "metadata": draw(metadata()),
        "spec": {
            "steps": [{"name": "step", "image": DOCKER_CLI, "script": draw(TEXTS)}],
            "enabled": draw(st.booleans()),
            "retries": draw(st.integers(0, 3)),
        },
    }


ITEMS = st.one_of(
    pods(),
    jobs(),
    cronjobs(),
    configmaps(),
    services(),
    deployments(),
    custom_resources(),
    opted_out_pods(),
)


def function_configs() -> st.SearchStrategy[dict[str, Any] | None]:
    return st.one_of(
        st.none(),
        st.builds(
            lambda mode: {
                "apiVersion": "v1",
                "kind": "ConfigMap",
                "metadata": {"name": "function-input"},
                "data": {"mode": mode},
            },
            st.sampled_from(MODES),
        ),
    )


# ---------------------------------------------------------------------------
# Text: writing a value in the drawn styles.


@dataclass(frozen=True)
class Style:
    """How one document is written. Each percentage is how often a choice is taken."""

    form: str  # "yaml" or "json"
    crlf: bool
    bom: bool
    width: int  # indentation of nested block collections
    items_dash: int  # column of the items' dashes
    items_flow: bool  # the whole `items` sequence in flow style
    flow: int  # a collection in flow style
    multiline_flow: int  # a flow collection over several lines
    quoting: int  # a scalar or key quoted where it could be plain
    explicit_keys: int
    comments: int
    indentless: int  # a sequence under a key at the key's column
    block_scalars: int  # a string that can be a block scalar is one
    anchors: int
    aliases: int
    shared_anchors: bool  # aliases may refer to anchors in earlier items
    final_newline: bool
    document_start: bool


@st.composite
def styles(draw: st.DrawFn) -> Style:
    percent = st.integers(0, 60)
    return Style(
        form="json" if draw(st.integers(0, 9)) == 9 else "yaml",
        crlf=draw(st.integers(0, 5)) == 5,
        bom=draw(st.integers(0, 7)) == 7,
        width=draw(st.sampled_from([2, 4])),
        items_dash=draw(st.sampled_from([0, 2])),
        items_flow=draw(st.integers(0, 11)) == 11,
        flow=draw(percent),
        multiline_flow=draw(percent),
        quoting=draw(percent),
        explicit_keys=draw(st.integers(0, 20)),
        comments=draw(percent),
        indentless=draw(st.integers(0, 100)),
        block_scalars=draw(st.integers(0, 100)),
        anchors=draw(st.integers(0, 30)),
        aliases=draw(st.integers(0, 100)),
        shared_anchors=draw(st.booleans()),
        final_newline=draw(st.integers(0, 9)) != 9,
        document_start=draw(st.integers(0, 5)) == 5,
    )


COMMENTS = [
    "# TODO: pin this",
    "# 日本語のコメント 🐳",
    "#no space after the hash",
    "# a: b - c [d] {e}",
    "# 'quoted' \"too\"",
    "#",
    "# ---",
    "# - looks like an entry",
]


def _loads(text: str) -> Any:
    return yaml.load(text, Loader=yaml.CSafeLoader)


def _reads_as(text: str, expected: Any) -> bool:
    try:
        return same(_loads(text), expected)
    except yaml.YAMLError:
        return False


@functools.cache
def plain_ok(value: str, flow: bool) -> bool:
    """Whether `value` can be written as a plain scalar (a value or a sequence entry)."""
    if not value or value != value.strip() or "\n" in value or "\r" in value:
        return False
    if not (_reads_as(f"k: {value}\n", {"k": value}) and _reads_as(f"- {value}\n", [value])):
        return False
    return not flow or (
        _reads_as(f"[{value}, x]", [value, "x"])
        and _reads_as(f"{{k: {value}, x: y}}", {"k": value, "x": "y"})
    )


@functools.cache
def plain_key_ok(key: str, flow: bool) -> bool:
    if not plain_ok(key, flow) or not _reads_as(f"{key}: v\n", {key: "v"}):
        return False
    return not flow or _reads_as(f"{{{key}: v}}", {key: "v"})


def single_quoted(value: str) -> str | None:
    if "\n" in value:
        return None
    return "'" + value.replace("'", "''") + "'"


def double_quoted(value: str, escape_non_ascii: bool) -> str:
    out = []
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\t":
            out.append("\\t")
        elif escape_non_ascii and ord(char) > 0x7E:
            out.append(f"\\u{ord(char):04x}" if ord(char) <= 0xFFFF else f"\\U{ord(char):08x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def block_scalar_forms(value: str) -> list[tuple[str, list[str], int]]:
    """Ways to write `value` as a block scalar: (indicator, content lines, trailing
    blank lines). Keep chomping takes the trailing blank lines into the value; for
    clip and strip they are any blank lines that follow, which the value ignores."""
    if not value or any(c in value for c in "\t\r\x85\u2028\u2029\ufeff"):
        return []
    body = value.rstrip("\n")
    breaks = len(value) - len(body)
    lines = body.split("\n")
    if not body or lines[0].startswith(" ") or any(line.isspace() for line in lines):
        return []
    forms: list[tuple[str, list[str], int]] = []
    chomps = {0: [("-", 0)], 1: [("", 0), ("+", 0)]}.get(breaks, [("+", breaks - 1)])
    for chomp, blank in chomps:
        forms.append(("|" + chomp, lines, blank))
    if len(lines) == 1 and "  " not in body and not body.endswith(" "):
        # Folded: one line of text, broken at single spaces; the breaks read as spaces.
        words = body.split(" ")
        for chomp, blank in chomps:
            folded = [" ".join(words[i : i + 3]) for i in range(0, len(words), 3)]
            forms.append((">" + chomp, folded, blank))
    return forms


def canonical(value: Any) -> str:
    """A text equal for equal values, types included (`true` is not `1`); a value
    JSON cannot hold (a date that YAML 1.1 read from `2024-01-01`) stands for itself."""
    return json.dumps(_str_keys(value), sort_keys=True, ensure_ascii=False, default=_unusual)


def _str_keys(value: Any) -> Any:
    """Keys other than strings (`~`, `1`, `true`) as tagged strings: JSON keys are
    strings, and keys of mixed types do not sort."""
    if isinstance(value, dict):
        return {k if isinstance(k, str) else _unusual(k): _str_keys(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_str_keys(v) for v in value]
    return value


def _unusual(value: Any) -> str:
    return f"<{type(value).__name__} {value!r}>"


def same(a: Any, b: Any) -> bool:
    return canonical(a) == canonical(b)


class _Writer:
    """Writes values as YAML lines in the drawn style, tracking what the next line may be."""

    def __init__(self, draw: st.DrawFn, style: Style) -> None:
        self.draw = draw
        self.style = style
        self.anchors: list[tuple[str, str]] = []  # (canonical value, anchor name), complete ones
        self.count = 0
        # The content column of a block scalar that the last line belongs to: a
        # comment line at that column or deeper would be part of its text.
        self.open_block: int | None = None
        # That scalar keeps its trailing line breaks: a blank line would join its value.
        self.open_keep = False

    def chance(self, percent: int) -> bool:
        # `>= 100 - percent` so that a shrunk draw (0) says no: failures shrink to plain text.
        return percent > 0 and self.draw(st.integers(0, 99)) >= 100 - percent

    def content(self) -> None:
        self.open_block, self.open_keep = None, False

    # Comments and blank lines.

    def comment(self) -> str:
        return self.draw(st.sampled_from(COMMENTS))

    def trailing_comment(self) -> str:
        return f" {self.comment()}" if self.chance(self.style.comments) else ""

    def comment_lines(self, column: int) -> list[str]:
        """Lines of comments (and a blank line) before an entry at `column`."""
        lines: list[str] = []
        if self.chance(self.style.comments // 3) and not self.open_keep:
            lines.append("")
        if self.chance(self.style.comments):
            where = 0 if self.chance(30) else column
            if self.open_block is not None and where >= self.open_block:
                where = 0
            lines.append(" " * where + self.comment())
        return lines

    # Anchors and aliases.

    def alias_for(self, value: Any) -> str | None:
        if not self.style.aliases or not self.anchors:
            return None
        key = canonical(value)
        names = [name for known, name in self.anchors if known == key]
        if names and self.chance(self.style.aliases):
            return f"*{names[-1]}"
        return None

    def new_anchor(self) -> str | None:
        if not self.chance(self.style.anchors):
            return None
        self.count += 1
        return self.draw(
            st.sampled_from([f"a{self.count}", f"ref-{self.count}", f"x_{self.count}"])
        )

    def remember(self, anchor: str | None, value: Any) -> None:
        if anchor:
            self.anchors.append((canonical(value), anchor))

    # Scalars.

    def scalar(self, value: Any, flow: bool) -> str:
        if isinstance(value, bool):
            return self.draw(
                st.sampled_from(
                    ["true", "True", "yes", "on"] if value else ["false", "False", "no", "off"]
                )
            )
        if isinstance(value, int):
            return str(value)
        if value is None:
            return self.draw(st.sampled_from(["null", "~"]))
        assert isinstance(value, str), value
        if plain_ok(value, flow) and not self.chance(self.style.quoting):
            return value
        single = single_quoted(value)
        if single is not None and self.draw(st.booleans()):
            return single
        return double_quoted(value, self.chance(30))

    def key(self, key: str, flow: bool) -> str:
        if plain_key_ok(key, flow) and not self.chance(self.style.quoting):
            return key
        single = single_quoted(key)
        if single is not None and self.draw(st.booleans()):
            return single
        return double_quoted(key, self.chance(30))

    # Flow collections.

    def flow(self, value: Any) -> str:
        """`value` on one line, in flow style (anchors and aliases included)."""
        alias = self.alias_for(value)
        if alias:
            return alias
        anchor = self.new_anchor() if isinstance(value, (dict, list)) or self.chance(20) else None
        text = self.bare_flow(value)
        self.remember(anchor, value)
        return f"&{anchor} {text}" if anchor else text

    def bare_flow(self, value: Any) -> str:
        """`value` on one line, in flow style, without an anchor or alias of its own."""
        if isinstance(value, dict):
            pairs = (f"{self.key(k, True)}: {self.flow(v)}" for k, v in value.items())
            return "{" + ", ".join(pairs) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(self.flow(v) for v in value) + "]"
        return self.scalar(value, True)

    def flow_lines(self, value: dict[str, Any] | list[Any], column: int) -> tuple[str, list[str]]:
        """A flow collection over several lines: the opening bracket, then one entry a
        line at `column`, comments after the commas and between the entries."""
        pad = " " * column
        if isinstance(value, dict):
            opening, closing = "{", "}"
            entries = [f"{self.key(k, True)}: {self.flow(v)}" for k, v in value.items()]
        else:
            opening, closing = "[", "]"
            entries = [self.flow(v) for v in value]
        lines = []
        for i, entry in enumerate(entries):
            if self.chance(self.style.comments // 2):
                lines.append(pad + self.comment())
            comma = "," if i < len(entries) - 1 else ""
            lines.append(pad + entry + comma + self.trailing_comment())
        lines.append(pad + closing + self.trailing_comment())
        return opening, lines

    # Block nodes.

    def node(self, value: Any, column: int, where: str) -> tuple[str, list[str]]:
        """`value` after an indicator: what goes on the indicator's line, then the lines
        below. `column` is that of the key (where "key") or the dash ("dash"), or of
        the `:` of an explicit key ("explicit")."""
        self.content()
        alias = self.alias_for(value)
        if alias:
            return alias + self.trailing_comment(), []
        nested = column + (self.style.width if where == "key" else 2)
        anchor = self.new_anchor()
        prefix = f"&{anchor}" if anchor else ""
        if isinstance(value, (dict, list)):
            if not value or self.chance(self.style.flow):
                if value and self.chance(self.style.multiline_flow):
                    opening, lines = self.flow_lines(value, nested)
                    self.remember(anchor, value)
                    return _join(prefix, opening + self.trailing_comment()), lines
                text = self.bare_flow(value)
                self.remember(anchor, value)
                return _join(prefix, text + self.trailing_comment()), []
            head = _join(prefix, self.trailing_comment().strip())
            if isinstance(value, dict):
                lines = self.mapping(value, nested)
            else:
                indentless = where == "key" and self.chance(self.style.indentless)
                lines = self.sequence(value, column if indentless else nested)
            self.remember(anchor, value)
            return head, lines
        if isinstance(value, str):
            forms = block_scalar_forms(value)
            if (
                forms
                and ("\n" in value or self.chance(self.style.block_scalars // 3))
                and self.chance(self.style.block_scalars)
            ):
                indicator, body, blank = self.draw(st.sampled_from(forms))
                if not indicator.endswith("+"):
                    blank = self.draw(st.integers(0, 2)) if self.chance(30) else 0
                lines = [" " * nested + line if line else "" for line in body] + [""] * blank
                self.remember(anchor, value)
                head = _join(prefix, indicator + self.trailing_comment())
                self.open_block, self.open_keep = nested, indicator.endswith("+")
                return head, lines
        text = self.scalar(value, False)
        self.remember(anchor, value)
        return _join(prefix, text + self.trailing_comment()), []

    def mapping(self, value: dict[str, Any], column: int, comments_first: bool = True) -> list[str]:
        pad = " " * column
        lines: list[str] = []
        for i, (key, child) in enumerate(value.items()):
            if i or comments_first:
                lines += self.comment_lines(column)
            key_text = self.key(key, False)
            if self.chance(self.style.explicit_keys):
                self.content()
                lines.append(f"{pad}? {key_text}")
                head, rest = self.node(child, column, "explicit")
                lines.append(f"{pad}:" + (f" {head}" if head else ""))
            else:
                head, rest = self.node(child, column, "key")
                lines.append(f"{pad}{key_text}:" + (f" {head}" if head else ""))
            lines += rest
        return lines

    def sequence(self, value: list[Any], column: int) -> list[str]:
        lines: list[str] = []
        for child in value:
            lines += self.comment_lines(column)
            lines += self.entry(child, column)
        if self.chance(self.style.comments):
            # A comment under the last entry, at its content's column.
            where = column + 2
            if self.open_block is not None and where >= self.open_block:
                where = 0
            lines.append(" " * where + self.comment())
        return lines

    def entry(self, value: Any, column: int) -> list[str]:
        """One sequence entry: `- ` at `column`."""
        pad = " " * column
        compact = (
            isinstance(value, (dict, list))
            and value
            and not self.chance(self.style.flow)
            and not self.chance(15)
            and self.alias_for(value) is None
        )
        if compact:
            # `- key: value` / `- - entry`: the first line of the collection after the dash.
            self.content()
            if isinstance(value, dict):
                inner = self.mapping(value, column + 2, comments_first=False)
            else:
                inner = self.sequence_without_leading_comments(value, column + 2)
            return [pad + "- " + inner[0][column + 2 :], *inner[1:]]
        head, rest = self.node(value, column, "dash")
        return [pad + "-" + (f" {head}" if head else ""), *rest]

    def sequence_without_leading_comments(self, value: list[Any], column: int) -> list[str]:
        lines = self.entry(value[0], column)
        return lines + (self.sequence(value[1:], column) if value[1:] else [])


def _join(*parts: str) -> str:
    return " ".join(p for p in parts if p)


# ---------------------------------------------------------------------------
# Documents.


@dataclass(frozen=True)
class Generated:
    text: str  # what the function reads
    value: dict[str, Any]  # what the text means
    style: Style

    @property
    def form(self) -> str:
        return self.style.form

    @property
    def items(self) -> list[dict[str, Any]]:
        return list(self.value.get("items") or [])

    @property
    def mode(self) -> str:
        config = self.value.get("functionConfig") or {}
        fields = config.get("data") if config.get("kind") == "ConfigMap" else config
        return str((fields or {}).get("mode") or "sidecar")

    @property
    def own_config(self) -> bool:
        """The functionConfig is one the generator does not write (a saved input with
        selectors, replaceDaemons, ...): which items it selects is the function's call."""
        config = self.value.get("functionConfig")
        if not config:
            return False
        if config.get("kind") != "ConfigMap":
            return True
        return bool(set(config.get("data") or {}) - {"mode"})

    @classmethod
    def of(cls, text: str) -> Generated:
        """A text from elsewhere (a saved regression), with the value it means."""
        form = "json" if is_json(text.removeprefix("\ufeff")) else "yaml"
        style = Style(
            form=form,
            crlf="\r\n" in text,
            bom=text.startswith("\ufeff"),
            width=2,
            items_dash=0,
            items_flow=False,
            flow=0,
            multiline_flow=0,
            quoting=0,
            explicit_keys=0,
            comments=0,
            indentless=0,
            block_scalars=0,
            anchors=0,
            aliases=0,
            shared_anchors=False,
            final_newline=text.endswith("\n"),
            document_start=False,
        )
        return cls(text, parse(text, form), style)

    def __repr__(self) -> str:
        # What a failure report shows: the text, with its \r and BOM visible.
        return f"Generated(form={self.form!r}, mode={self.mode!r}, text={self.text!r})"


def write_yaml(draw: st.DrawFn, style: Style, value: dict[str, Any]) -> str:
    writer = _Writer(draw, style)
    lines: list[str] = []
    if style.document_start:
        lines.append("---")
    if writer.chance(style.comments):
        lines.append(writer.comment())
    header = {"apiVersion": value["apiVersion"], "kind": value["kind"]}
    config = value.get("functionConfig")
    sections: list[tuple[str, Any]] = list(header.items())
    if draw(st.booleans()):
        sections.reverse()
    tail = [("items", value["items"])]
    if config is not None:
        tail.insert(draw(st.integers(0, 1)), ("functionConfig", config))
    for key, child in [*sections, *tail]:
        if key == "items":
            lines += _write_items(writer, style, child)
        else:
            lines += writer.comment_lines(0)
            writer.anchors = []  # the header and config share nothing with the items
            lines += writer.mapping({key: child}, 0, comments_first=False)
    text = "\n".join(lines)
    # A missing final line break, unless the text ends in a block scalar's lines.
    if style.final_newline or writer.open_block is not None:
        text += "\n"
    return text


def _write_items(writer: _Writer, style: Style, items: list[dict[str, Any]]) -> list[str]:
    writer.content()
    writer.anchors = []
    key = writer.key("items", False)
    if style.items_flow or not items:
        if items and writer.chance(50):
            opening, lines = writer.flow_lines(items, 2)
            return [f"{key}: {opening}", *lines]
        return [f"{key}: {writer.flow(items)}"]
    lines = [f"{key}:{writer.trailing_comment()}"]
    for item in items:
        if not style.shared_anchors:
            writer.anchors = []
        lines += writer.comment_lines(style.items_dash)
        lines += writer.entry(item, style.items_dash)
    if writer.chance(style.comments):
        where = style.items_dash + 2
        if writer.open_block is not None and where >= writer.open_block:
            where = 0
        lines.append(" " * where + writer.comment())
    writer.anchors = []
    return lines


def write_json(draw: st.DrawFn, value: dict[str, Any]) -> str:
    indent = draw(st.sampled_from([None, 2, 4]))
    return json.dumps(value, indent=indent, ensure_ascii=draw(st.booleans())) + "\n"


def parse(text: str, form: str) -> Any:
    """What a text means: json for the JSON form, libyaml's safe loader otherwise."""
    body = text.removeprefix("\ufeff")
    return json.loads(body) if form == "json" else _loads(body)


@st.composite
def resource_lists(draw: st.DrawFn, items: st.SearchStrategy[dict[str, Any]] = ITEMS) -> Generated:
    value: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "ResourceList",
        "items": draw(st.lists(items, max_size=5)),
    }
    config = draw(function_configs())
    if config is not None:
        value["functionConfig"] = config
    style = draw(styles())
    text = write_json(draw, value) if style.form == "json" else write_yaml(draw, style, value)
    if style.crlf:
        text = text.replace("\n", "\r\n")
    if style.bom:
        text = "\ufeff" + text
    try:
        meant = parse(text, style.form)
    except (yaml.YAMLError, ValueError) as error:
        raise AssertionError(f"generator bug: the text does not parse: {error}\n{text}") from None
    if not same(meant, value):
        raise AssertionError(f"generator bug: the text does not mean its value\n{text}")
    return Generated(text, value, style)


# ---------------------------------------------------------------------------
# What a test asks about an item.


def is_selected(item: dict[str, Any], mode: str) -> bool:
    """Whether the function should wire `item`: a Pod, Job or CronJob of the core or
    batch group (of any version: the function goes by group), not opted out; nothing
    at all in audit mode."""
    wanted = WORKLOADS.get(item.get("kind", ""))
    version = item.get("apiVersion")
    if mode == "audit" or wanted is None or not isinstance(version, str):
        return False
    if not version or wanted.rpartition("/")[0] != version.rpartition("/")[0]:
        return False
    annotations = (item.get("metadata") or {}).get("annotations") or {}
    return str(annotations.get(INJECT_ANNOTATION, "")).lower() != "false"
