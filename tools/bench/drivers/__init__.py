"""Benchmark drivers: one module per client family, run by that client's virtualenv.

``python -m drivers.drive_<family> --scenario ... --url ...`` from ``tools/bench`` (see
``_common`` for the arguments and the JSON line each prints). They import only this
package and the client under test, never the project's ``tools`` package.
"""
