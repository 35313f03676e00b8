"""A program with no executor at all: the executor swap has nothing to replace, so
`forkcast experiment` must say the concurrency could not be varied instead of advising."""
print(sum(i * i % 7 for i in range(300_000)))
