"""The course as a static HTML site that reads offline, and its check: ``make site``.

    python scripts/build_site.py                        # every notebook into site/
    python scripts/build_site.py --check                # check site/ and exit non-zero on a fault
    python scripts/build_site.py 00_start_here 04_backprop --out build/site

Each notebook of ``nnlib.course.NOTEBOOKS`` becomes ``NN_name.html`` with the outputs it
was saved with (nothing is executed), converted by nbconvert's HTMLExporter (lab template)
after one preprocessor, ``SitePreprocessor``, has made it fit for a static page:

* a navigation line (contents, previous, next) at the top and the bottom;
* the ``host-links`` cell (remote Colab and Binder badges) becomes a line of plain links,
  and the ``colab-setup`` code cell is dropped;
* a live view (an output with a widget view and a still image) loses its widget view, so
  the still image shows, and gets a line on how to open it live; the notebook's widget
  state is dropped, so that no widget manager is loaded from a CDN;
* relative links are made to work inside the site: ``NN_name.ipynb`` -> ``NN_name.html``
  (``#anchors`` kept), other files of the repository (``../solutions/01_neurons.py``) are
  copied into the site under their path in the repository, and a notebook that was not
  built, or a large file, is linked on GitHub (``nnlib.hosts``).

``index.html`` is an in-memory notebook of Markdown cells (intro, how to run, contents in
course order) converted by the same exporter. MathJax is copied from the package
``jupyter-server-mathjax`` (``pip install -e ".[site]"``, MathJax 2.7 with its STIX-Web
fonts) into ``site/_static/mathjax``, so math renders with no network, from ``file://``
too; without the package the pages load MathJax from nbconvert's CDN and the build says so.

``--check`` parses every page with ``html.parser`` and fails on an internal link whose
file or anchor does not exist, an image that is missing, remote or an empty/undecodable
``data:`` URI, a missing page, or anything left of widgets (the widget-view mime type, a
widget-manager script).
"""

import argparse
import base64
import binascii
import re
import shutil
import sys
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
from jinja2 import DictLoader
from nbconvert import HTMLExporter
from nbconvert.preprocessors import Preprocessor
from traitlets import Dict, Unicode

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from nnlib import hosts  # noqa: E402
from nnlib.course import NOTEBOOK_DIR, NOTEBOOKS  # noqa: E402

SITE = ROOT / "site"
COURSE_TITLE = "Neural networks, hands on"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
STILL_IMAGES = ("image/png", "image/jpeg")
COPY_LIMIT = 1_000_000  # bytes: a linked repository file larger than this is linked on GitHub
LOCAL_RUN = "locally (`make lab`)"

# A small template on top of nbconvert's lab template: no require.js, widget manager or
# mermaid from a CDN (the pages need none of them); MathJax's local copy configured like
# nbconvert's, but before MathJax.js loads, and with the STIX-Web fonts that
# jupyter-server-mathjax ships (its only ones); a few lines of CSS for the navigation
# line and the width.
TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{% from 'mathjax.html.j2' import mathjax %}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block html_head_js_mathjax -%}
{%- if resources.site_mathjax_local %}
<script type="text/x-mathjax-config">
MathJax.Hub.Config({
  TeX: {equationNumbers: {autoNumber: "AMS", useLabelIds: true}},
  tex2jax: {inlineMath: [["$", "$"], ["\\(", "\\)"]],
            displayMath: [["$$", "$$"], ["\\[", "\\]"]],
            processEscapes: true, processEnvironments: true},
  "HTML-CSS": {availableFonts: [], preferredFont: null, webFont: "STIX-Web", imageFont: null,
               linebreaks: {automatic: true}},
  displayAlign: "center",
  messageStyle: "none"
});
</script>
<script src="{{ resources.mathjax_url }}"></script>
{%- else %}
{{ mathjax(resources.mathjax_url) }}
{%- endif %}
{%- endblock html_head_js_mathjax -%}
{% block extra_css %}
<style type="text/css">
main { max-width: 1060px; margin: 0 auto; }
.celltag_site-nav, .celltag_site-run { font-size: 0.95em; }
.celltag_site-nav p { margin: 0.2em 0; padding: 0.4em 0.6em; background: #f2f4f7;
  border-radius: 4px; }
.jp-OutputArea-output img { max-width: 100%; height: auto; }
</style>
{% endblock extra_css %}
"""


def host_line(stem):
    """The plain Markdown links that replace the ``host-links`` badges."""
    return (f"Run this notebook: [Open in Colab]({hosts.colab_url(stem)}) · "
            f"[Binder]({hosts.binder_url(stem)}) · {LOCAL_RUN}")


def live_view_note(stem):
    return (f"*Live view, shown here as a still image.* To move its controls, open the "
            f"notebook in [Colab]({hosts.colab_url(stem)}) or [Binder]({hosts.binder_url(stem)}), "
            f"or run it {LOCAL_RUN}.")


def number_title(nb):
    return f"{nb.stem.split('_', 1)[0]} {nb.title}"


# Markdown inline links and images, reference definitions, and href/src in raw HTML.
LINK_PATTERNS = (
    re.compile(r"(\]\(\s*<?)([^)\s>]+)"),
    re.compile(r"(^\s{0,3}\[[^\]]+\]:\s*<?)(\S+?)(?=>?(\s|$))", re.MULTILINE),
    re.compile(r"""((?:href|src)\s*=\s*["'])([^"']+)"""),
)
SCHEME = re.compile(r"^[a-zA-Z][a-zA-Z0-9+.-]*:")


class SitePreprocessor(Preprocessor):
    """Makes a saved course notebook fit for a static page (see the module's docstring).

    The notebook's stem is read from ``resources["metadata"]["name"]``; a notebook that is
    not in the course (the contents page) passes unchanged. Repository files that links
    point at are added to ``copies`` (paths relative to the repository) for the build.
    """

    stems = Dict(help="stem -> (previous stem or None, next stem or None), the pages built")
    copies = Dict(help="repository-relative path -> True, filled while preprocessing")
    notebook_dir = Unicode(str(NOTEBOOK_DIR))

    def site_target(self, target):
        """Where a link of a notebook points to in the site."""
        if not target or target.startswith(("#", "//")) or SCHEME.match(target):
            return target
        path, hash_, fragment = target.partition("#")
        anchor = hash_ + fragment
        resolved = (Path(self.notebook_dir) / unquote(path)).resolve()
        try:
            repo_path = resolved.relative_to(ROOT).as_posix()
        except ValueError:
            return target  # outside the repository: left for the check to report
        if resolved.suffix == ".ipynb" and resolved.parent == Path(self.notebook_dir).resolve():
            if resolved.stem in self.stems:
                return f"{resolved.stem}.html{anchor}"
            return hosts.github_url(repo_path) + anchor
        if resolved.is_file() and resolved.stat().st_size <= COPY_LIMIT:
            self.copies[repo_path] = True
            return repo_path + anchor
        if resolved.exists():
            return hosts.github_url(repo_path) + anchor
        return target  # a broken link: left for the check to report

    def rewrite_links(self, markdown):
        for pattern in LINK_PATTERNS:
            markdown = pattern.sub(
                lambda m: m.group(1) + self.site_target(m.group(2)), markdown)
        return markdown

    def nav_cell(self, stem):
        previous, following = self.stems[stem]
        parts = ["[Contents](index.html)"]
        course = {nb.stem: nb for nb in NOTEBOOKS}
        if previous:
            parts.append(f"← [{number_title(course[previous])}]({previous}.html)")
        if following:
            parts.append(f"[{number_title(course[following])}]({following}.html) →")
        return nbformat.v4.new_markdown_cell(" · ".join(parts), metadata={"tags": ["site-nav"]})

    def site_outputs(self, stem, outputs):
        kept = []
        for output in outputs:
            data = output.get("data", {})
            if WIDGET_VIEW not in data:
                if "text/markdown" in data:
                    data["text/markdown"] = self.rewrite_links(data["text/markdown"])
                kept.append(output)
                continue
            del data[WIDGET_VIEW]
            kept.append(output)
            kept.append(nbformat.v4.new_output(
                "display_data", data={"text/markdown": live_view_note(stem)}))
        return kept

    def preprocess(self, nb, resources):
        stem = resources.get("metadata", {}).get("name")
        if stem not in self.stems:
            return nb, resources
        nb.metadata.pop("widgets", None)
        cells = [self.nav_cell(stem)]
        for cell in nb.cells:
            tags = cell.get("metadata", {}).get("tags", [])
            if "colab-setup" in tags:
                continue
            if "host-links" in tags:
                cell = nbformat.v4.new_markdown_cell(host_line(stem),
                                                     metadata={"tags": ["site-run"]})
            elif cell.cell_type == "markdown":
                cell.source = self.rewrite_links(cell.source)
            elif cell.cell_type == "code":
                cell.outputs = self.site_outputs(stem, cell.outputs)
            cells.append(cell)
        cells.append(self.nav_cell(stem))
        nb.cells = cells
        return nb, resources


def index_notebook(stems):
    """The contents page as a notebook of Markdown cells."""
    md = nbformat.v4.new_markdown_cell
    repo = f"https://github.com/{hosts.REPOSITORY}"
    rows = ["| # | notebook | what you will learn |", "|---|---|---|"]
    for nb in NOTEBOOKS:
        if nb.stem in stems:
            number = nb.stem.split("_", 1)[0]
            rows.append(f"| {number} | [{nb.title}]({nb.stem}.html) | {nb.summary} |")
    first = next(nb.stem for nb in NOTEBOOKS if nb.stem in stems)
    cells = [
        md(f"# {COURSE_TITLE}\n\n"
           "An ordered course of interactive Jupyter notebooks that goes from a single neuron "
           "to a transformer, built on `nnlib`, a small library of from-scratch numpy "
           "implementations tested against PyTorch. These pages show each notebook as it "
           "was last run, with its text, figures and still images of its live views; "
           "they read offline."),
        md(f"**To run the course**, open a notebook in Colab or Binder (each page has both "
           f"links at its top; start with [Colab]({hosts.colab_url(first)}) or "
           f"[Binder]({hosts.binder_url(first)})), or clone [the repository]({repo}) and run "
           "it locally with `make lab`."),
        md("## Contents\n\n" + "\n".join(rows)),
    ]
    return nbformat.v4.new_notebook(cells=cells, metadata={"title": COURSE_TITLE})


def local_mathjax():
    """The folder of MathJax 2 that jupyter-server-mathjax ships, or None."""
    try:
        import jupyter_server_mathjax
    except ImportError:
        return None
    static = Path(jupyter_server_mathjax.__file__).parent / "static"
    return static if (static / "MathJax.js").is_file() else None


def copy_mathjax(source, dest):
    """The parts of MathJax the pages use: TeX input, HTML-CSS output, its STIX-Web fonts."""
    keep = ["MathJax.js", "LICENSE", "config", "extensions", "jax/input", "jax/element",
            "jax/output/HTML-CSS", "fonts/HTML-CSS/STIX-Web", "localization/en"]
    skip = shutil.ignore_patterns("a11y")
    for part in keep:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, dest / part, ignore=skip, dirs_exist_ok=True)
        elif src.is_file():
            (dest / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / part)


def make_exporter(mathjax_url):
    """nbconvert's HTML exporter with the lab template, TEMPLATE on top, no prompts."""
    return HTMLExporter(
        template_name="lab",
        extra_loaders=[DictLoader({"site.html.j2": TEMPLATE})],
        template_file="site.html.j2",
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        mathjax_url=mathjax_url,
    )


def build_site(out_dir=SITE, stems=None, notebook_dir=NOTEBOOK_DIR, quiet=False):
    """Write the site for ``stems`` (default: the whole course) into ``out_dir``.

    Returns the list of files written. ``out_dir`` is emptied first.
    """
    out_dir = Path(out_dir)
    known = [nb.stem for nb in NOTEBOOKS]
    stems = known if stems is None else [s.removesuffix(".ipynb") for s in stems]
    unknown = sorted(set(stems) - set(known))
    if unknown:
        raise SystemExit(f"not in nnlib.course.NOTEBOOKS: {', '.join(unknown)}")
    stems = [s for s in known if s in stems]  # course order
    if not stems:
        raise SystemExit("no notebook to build")
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)

    mathjax = local_mathjax()
    if mathjax is not None:
        copy_mathjax(mathjax, out_dir / "_static" / "mathjax")
        mathjax_url = "_static/mathjax/MathJax.js?config=TeX-AMS-MML_HTMLorMML-full,Safe"
    else:
        mathjax_url = HTMLExporter.mathjax_url.default_value
        print("warning: jupyter-server-mathjax is not installed (pip install -e \".[site]\"): "
              "the pages load MathJax from a CDN and show raw TeX offline", file=sys.stderr)

    neighbours = {s: (stems[i - 1] if i else None, stems[i + 1] if i + 1 < len(stems) else None)
                  for i, s in enumerate(stems)}
    pre = SitePreprocessor(stems=neighbours, notebook_dir=str(notebook_dir))
    exporter = make_exporter(mathjax_url)
    exporter.register_preprocessor(pre, enabled=True)

    def convert(nb, name, filename):
        resources = {"metadata": {"name": name}, "site_mathjax_local": mathjax is not None}
        body, _ = exporter.from_notebook_node(nb, resources=resources)
        (out_dir / filename).write_text(body, encoding="utf-8")
        return out_dir / filename

    written = [convert(index_notebook(stems), "index", "index.html")]
    course = {nb.stem: nb for nb in NOTEBOOKS}
    for stem in stems:
        nb = nbformat.read(Path(notebook_dir) / f"{stem}.ipynb", as_version=4)
        nb.metadata["title"] = f"{number_title(course[stem])} · {COURSE_TITLE}"
        written.append(convert(nb, stem, f"{stem}.html"))
        if not quiet:
            print(f"  {stem}.html")
    for repo_path in sorted(pre.copies):
        (out_dir / repo_path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / repo_path, out_dir / repo_path)
        written.append(out_dir / repo_path)
    return written


# --------------------------------------------------------------------------------- check


class PageParser(HTMLParser):
    """Collects a page's ids/names, links (href) and sources (src) with their tags."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.anchors = set()
        self.refs = []  # (tag, attribute, value)

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.anchors.add(value)
            if name in ("href", "src") and value is not None:
                self.refs.append((tag, name, value))

    handle_startendtag = handle_starttag


def parse_page(path):
    parser = PageParser()
    text = path.read_text(encoding="utf-8")
    parser.feed(text)
    parser.close()
    return text, parser


def check_data_uri(uri):
    """None when ``uri`` is a non-empty, decodable data: URI, else what is wrong."""
    header, comma, payload = uri[5:].partition(",")
    if not comma:
        return "data: URI without a comma"
    if header.endswith(";base64"):
        try:
            raw = base64.b64decode(payload, validate=True)
        except (binascii.Error, ValueError) as error:
            return f"undecodable base64 ({error})"
    else:
        raw = unquote(payload).encode()
    return None if raw else "empty data: URI"


def check_site(site_dir=SITE, stems=None, warnings=None):
    """Every fault of the site in ``site_dir`` as a list of messages (empty: all good).

    ``stems`` are the notebooks that must have a page (default: the whole course).
    Remote scripts other than widget managers are no fault (MathJax from its CDN when
    jupyter-server-mathjax is missing): they are appended to the list ``warnings``.
    """
    site_dir = Path(site_dir).resolve()
    stems = [nb.stem for nb in NOTEBOOKS] if stems is None else stems
    errors = []
    warnings = [] if warnings is None else warnings
    for required in ["index"] + list(stems):
        if not (site_dir / f"{required}.html").is_file():
            errors.append(f"{required}.html: missing page")
    pages = {path: parse_page(path) for path in sorted(site_dir.rglob("*.html"))
             if "_static" not in path.relative_to(site_dir).parts}

    def anchors_of(path):
        if path not in pages:
            pages[path] = parse_page(path)
        return pages[path][1].anchors

    for page, (text, parser) in list(pages.items()):
        name = page.relative_to(site_dir).as_posix()
        for mime in (WIDGET_VIEW, WIDGET_STATE):
            if mime in text:
                errors.append(f"{name}: still contains the widget mime type {mime}")
        for tag, attribute, value in parser.refs:
            where = f"{name}: <{tag} {attribute}=\"{value[:80]}\">"
            if value.startswith("data:"):
                problem = check_data_uri(value)
                if problem:
                    errors.append(f"{where}: {problem}")
                continue
            parts = urlsplit(value)
            remote = bool(parts.scheme or value.startswith("//"))
            if tag == "script" and remote:
                if re.search(r"jupyter-widgets|html-manager|embed-amd|require\.js", value):
                    errors.append(f"{where}: widget-manager (or require.js) script from a CDN")
                else:
                    warnings.append(f"{where}: remote script (needs a network)")
                continue
            if tag == "img" and remote:
                errors.append(f"{where}: remote image (the site must read offline)")
                continue
            if remote:
                continue  # external links are not fetched
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if site_dir not in target.parents and target != site_dir:
                errors.append(f"{where}: points outside the site")
                continue
            if not target.is_file():
                errors.append(f"{where}: no such file {target.relative_to(site_dir)}")
                continue
            if parts.fragment and target.suffix == ".html":
                fragment = unquote(parts.fragment)
                if fragment not in anchors_of(target) and parts.fragment not in anchors_of(target):
                    errors.append(f"{where}: no id or name {fragment!r} in "
                                  f"{target.relative_to(site_dir)}")
    return errors


def site_size(site_dir):
    return sum(p.stat().st_size for p in Path(site_dir).rglob("*") if p.is_file())


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("stems", nargs="*", help="notebooks to build (default: all)")
    parser.add_argument("--out", type=Path, default=SITE, help="the site's folder (site/)")
    parser.add_argument("--check", action="store_true", help="check the site; build nothing")
    args = parser.parse_args(argv)
    stems = args.stems or None
    start = time.perf_counter()
    if args.check:
        warnings = []
        errors = check_site(args.out, [s.removesuffix(".ipynb") for s in stems or []] or None,
                            warnings)
        for warning in warnings:
            print(f"warning: {warning}")
        pages = len(list(args.out.glob("*.html")))
        if errors:
            print(f"site check FAILED: {len(errors)} fault(s) in {args.out}", file=sys.stderr)
            for error in errors:
                print(f"  {error}", file=sys.stderr)
            return 1
        print(f"site check passed: {pages} pages in {args.out}, links, anchors, images and "
              f"pages all present, no widget leftovers ({time.perf_counter() - start:.1f} s)")
        return 0
    written = build_site(args.out, stems)
    pages = [p for p in written if p.suffix == ".html"]
    print(f"built {args.out}: {len(pages)} pages, {len(written) - len(pages)} linked files, "
          f"{site_size(args.out) / 1e6:.1f} MB in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
