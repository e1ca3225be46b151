"""The library: whole folders indexed once (keyed by content fingerprint), then searched across every file by
what is seen, said and when. `scan` finds media, `index` analyses what is new, `catalog` keeps it in the store,
`search` ranks stored moments, `clock` dates them, `region` asks where people go, `selects` writes the hits as
one timeline, and `ray_runner` spreads the analyses over a Ray cluster."""
