# The README's two commands are `make run` and `make test`; both set up what they need on first use.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
PORT ?= 8000
SHARED ?= ../shared/data

.PHONY: run test lint format test-fast sam-cli release whole-split paper evaluate bench reliability system-deps clean

# Each venv's stamp is named by its requirement files' content (sha256), not dated against them: a fresh
# clone or a checkout rewrites them unchanged but newer, and must not reinstall (least of all into a venv
# another checkout shares through a symlink); changed requirements miss the stamp and install.
content_hash = $(firstword $(shell sha256sum $(1) | sha256sum))
INSTALLED := $(VENV)/.installed-$(call content_hash,requirements.txt function/requirements.txt training/requirements.txt)
SAM_INSTALLED := $(SAM_VENV)/.installed-$(call content_hash,infra/requirements-sam.txt)

$(INSTALLED):
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	rm -f $(VENV)/.installed-*
	touch $@

# The SAM CLI pins its own dependencies, so it lives in a venv of its own.
$(SAM_INSTALLED):
	test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet -r infra/requirements-sam.txt
	rm -f $(SAM_VENV)/.installed-*
	touch $@

sam-cli: $(SAM_INSTALLED)  ## the SAM CLI in .venv-sam/ (infra/deploy.sh and the SAM tests use it)

# Debian packages the tests drive for real: Chromium (browser tests), Node.js (the CloudFront Function),
# Docker and debootstrap (SAM local).
system-deps:
	bash infra/install_system_deps.sh

run: $(INSTALLED)  ## the page and the API on http://127.0.0.1:$(PORT), bundle served from a loopback S3
	PORT=$(PORT) $(PY) -m infra.local_stack

lint: $(INSTALLED)
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: $(INSTALLED)
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

# CXR_NO_SKIPS: `make test` installs every tool its tests drive, so a test that skips (a tool missing) fails.
test: $(INSTALLED) $(SAM_INSTALLED) system-deps lint  ## everything: unit, integration, SAM local, browser
	CXR_NO_SKIPS=1 $(PY) -m pytest

test-fast: $(INSTALLED) lint  ## no container build, no browser
	$(PY) -m pytest -m "not sam and not browser"

# The released model (issue 6): both folders, patient-grouped 60/40 split, the screening recipe, trained
# three times on the same split with different initial weights, then averaged by one model with int8
# weights (docs/model-experiments.md, "Seeds and ensembles"), then given the "cropped" note's detector (about
# 30 min; experiment log, "The crop note"), then its consistency check's second stage retrained with drawn
# non-radiographs among the negatives (10 to 25 min; experiment log, "Drawn images"). Members are kept in build/release-members, so an
# interrupted `make release` resumes (a member cut off mid-way from its last finished epoch: training/resume.py);
# delete that folder to retrain them all.
# RELEASE_OPTIONS adds `train` options to every member, e.g. "--tuning-strata class-and-source
# --fit-without-reported-normal" (experiment log, "Next release"); members trained with other options do not
# mix, so delete build/release-members when changing them. RELEASE_OUT=build/release-candidate builds a
# candidate beside the served release, to be judged by the experiment log's rule (`.venv/bin/python -m
# bench.release_rule build/release-candidate --member ...`, each member) before it replaces it.
# RELEASE_MEMBERS=<folder> keeps the members (and a cut-off member's checkpoint) elsewhere than build/,
# for machines that do not keep build/.
# ENSEMBLE_OPTIONS go to the ensemble step only (e.g. "--adult-normal-floor 0.95": a calibration choice,
# which needs no retrained member).
RELEASE_SIZE ?= 128
RELEASE_OUT ?= models/release
RELEASE_OPTIONS ?=
ENSEMBLE_OPTIONS ?=
RELEASE_MEMBERS ?= build/release-members
RELEASE_DATA := --data $(SHARED)/covid19-radiography-128 --data $(SHARED)/covid19-radiography-adult-128
RELEASE_TRAIN := TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m training train --recipe screening --split grouped \
  $(RELEASE_DATA) --epochs 40 --val-fraction 0.4 --image-size $(RELEASE_SIZE) --seed 0 \
  $(RELEASE_OPTIONS)

# member 0 also trains the consistency check, which the ensemble reuses (it depends on the split only)
$(RELEASE_MEMBERS)/seed0/manifest.json: | $(INSTALLED)
	$(RELEASE_TRAIN) --out $(@D) --negatives $(SHARED)/not-chest-xray

$(RELEASE_MEMBERS)/seed%/manifest.json: | $(INSTALLED)
	$(RELEASE_TRAIN) --out $(@D) --init-seed $*

release: $(foreach seed,0 1 2,$(RELEASE_MEMBERS)/seed$(seed)/manifest.json) | $(INSTALLED)  ## retrain models/release (80 min to 4.5 h on 2 cores by host: bench.bench_training_step, then about 30 min for the crop note and 10 to 25 for the check)
	rm -rf $(RELEASE_OUT)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m training ensemble $(foreach member,$(^D),--member $(member)) \
	  $(RELEASE_DATA) $(ENSEMBLE_OPTIONS) --out $(RELEASE_OUT)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m training crop-note --bundle $(RELEASE_OUT) $(RELEASE_DATA)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m training gate --bundle $(RELEASE_OUT) $(RELEASE_DATA) \
	  --negatives $(SHARED)/not-chest-xray --synthetic-negatives 270

# The pre-registered paper-protocol ensemble (docs/model-experiments.md, "The whole training split"): five
# members trained on all 60% of the first folder, averaged on three test-time views, then reported. Members
# are kept in build/whole-split, so an interrupted run resumes where it stopped (mid-member: from the last
# finished epoch).
WHOLE_SPLIT := build/whole-split
WHOLE_SPLIT_TRAIN := TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m training train --recipe screening-whole-split \
  --split image --data $(SHARED)/covid19-radiography-128 --epochs 40 --val-fraction 0.4 --image-size 128
WHOLE_SPLIT_MEMBERS := w-s0 w-s1 w-s2 w-fullres-s0 w-fullres-s1

$(WHOLE_SPLIT)/w-s%/manifest.json: | $(INSTALLED)
	$(WHOLE_SPLIT_TRAIN) --init-seed $* --out $(@D)

$(WHOLE_SPLIT)/w-fullres-s%/manifest.json: | $(INSTALLED)
	$(WHOLE_SPLIT_TRAIN) --architecture screening-cnn-fullres --init-seed $* --out $(@D)

whole-split: $(foreach member,$(WHOLE_SPLIT_MEMBERS),$(WHOLE_SPLIT)/$(member)/manifest.json) | $(INSTALLED)  ## the experiment log's pre-registered paper-protocol ensemble (3.5 to 6 h on 2 cores by host)
	rm -rf $(WHOLE_SPLIT)/w-mixed5-zoom
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m training ensemble $(foreach member,$(^D),--member $(member)) \
	  --data $(SHARED)/covid19-radiography-128 --tflite-weights float32 --views zoom --out $(WHOLE_SPLIT)/w-mixed5-zoom
	$(PY) -m bench.model_report $(WHOLE_SPLIT)/w-mixed5-zoom

# The paper's protocol exactly (issue 2), kept as the reference: models/paper.
paper: $(INSTALLED)  ## retrain models/paper (15 to 40 min on 2 cores by host: bench.bench_training_step)
	TF_CPP_MIN_LOG_LEVEL=2 $(PY) -m training train --recipe paper --split image \
	  --data $(SHARED)/covid19-radiography-128 \
	  --out models/paper --epochs 100 --val-fraction 0.4 --image-size 64 --seed 0 \
	  --negatives $(SHARED)/not-chest-xray

evaluate: $(INSTALLED)  ## the released model on its own validation split, by source and age group (ARGS=--served-rule: as the API answers)
	$(PY) -m training evaluate --bundle models/release --data $(SHARED)/covid19-radiography-128 \
	  --data $(SHARED)/covid19-radiography-adult-128 --validation-only --cohorts $(ARGS)

bench: $(INSTALLED)  ## every bench/bench_*.py with its defaults (results go in docs/benchmarks.md by hand)
	for script in bench/bench_*.py; do $(PY) -m bench.$$(basename $$script .py) || exit 1; done

reliability: $(INSTALLED)  ## 10,000+ fuzz cases and the wrk load test (docs/reliability.md)
	$(PY) -m bench.fuzz_api
	$(PY) -m bench.load_test
	$(PY) -m bench.reliability_table

clean:
	rm -rf .pytest_cache .ruff_cache .aws-sam test-artifacts
