"""The BLAS libraries loaded in this process and the core OpenBLAS selected, through threadpoolctl
(Debian's python3-threadpoolctl), for the peers' JSON records: a list of
{internal_api, version, architecture, filepath}, or ["unknown (...)"] without threadpoolctl."""


def blas():
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return ["unknown (no threadpoolctl)"]
    keep = ("internal_api", "version", "architecture", "filepath", "threading_layer")
    libs = [{k: v for k, v in lib.items() if k in keep} for lib in threadpool_info()
            if lib.get("user_api") == "blas"]
    return libs or ["unknown (threadpoolctl found no BLAS)"]
