"""reelmark's DaVinci Resolve script ("Analyze clip"), as the package `reelmark.plugin.resolve`.

Everything here runs inside Resolve's own Python and imports only the standard library. `reelmark install
resolve` (`reelmark.core.resolve_install`) puts a small launcher into Resolve's Scripts folder that loads this
package by path; see README.md in this folder.
"""
