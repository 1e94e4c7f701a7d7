# hostnet.nm - the two commands a newcomer needs are `make demo` and `make test`.
SHELL := /bin/bash
N ?= 3
NM ?= 1.42

.PHONY: help setup demo test test-unit test-integration test-kernel test-nm-versions lint docs changelog lab-up lab-down bench clean

help:
	@echo "make demo      set up, bring up a lab of $(N) NetworkManager hosts, run demo/site.yml (check, apply, re-run)"
	@echo "make test      set up, then every test tier this machine can run (unit, lab, kernel), then lint"
	@echo "make test-unit | test-integration | test-kernel   one tier"
	@echo "make test-nm-versions                             the whole lab and kernel tiers on NetworkManager 1.42, 1.52 and 1.58"
	@echo "make lint      sanity, unit tests under ansible-test, ansible-lint, docs and changelog lint, the release tarball installed and used"
	@echo "make docs      HTML documentation in build/docs/build/html"
	@echo "make changelog CHANGELOG.md from changelogs/fragments (after adding a fragment)"
	@echo "make lab-up N=3 [NM=1.52|1.58] | lab-down          the lab by hand (NM: the hosts' NetworkManager, default 1.42)"

setup:
	bash scripts/setup.sh

demo: setup
	bash scripts/demo.sh

test: setup
	bash scripts/test.sh all

test-unit: setup
	bash scripts/test.sh unit

test-integration: setup
	bash scripts/test.sh integration

test-kernel: setup
	bash scripts/test.sh kernel

test-nm-versions: setup
	bash scripts/test.sh nm-versions

lint: setup
	bash scripts/lint.sh

docs: setup
	bash scripts/docs.sh

changelog: setup
	bash scripts/changelog.sh

bench: setup
	.venv/bin/python bench/run.py

lab-up: setup
	HNLAB_NM=$(NM) bash tests/lab/up.sh $(N)

lab-down:
	bash tests/lab/down.sh

# what setup and the tests made for this checkout (the shared caches stay: ~/.ansible/test,
# ~/.cache/hostnet-nm/clean-install, /var/cache/hostnet-nm, Debian's packages)
clean: lab-down
	rm -rf build .venv .venv-lint .pytest_cache .hypothesis changelogs/.plugin-cache.yaml \
	  "$${XDG_CACHE_HOME:-$$HOME/.cache}/hostnet-nm/ansible-test-$$(echo "$(CURDIR)" | sha1sum | cut -c1-8)"
