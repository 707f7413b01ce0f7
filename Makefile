# Shortcuts for people who type make; the scripts are the source of truth.
.PHONY: build test demo bench
build:
	bash scripts/build
test:
	bash scripts/test
demo:
	bash scripts/demo
bench:
	go test -run '^$$' -bench . -benchmem -cpu 1,2 ./runtimes/composite
