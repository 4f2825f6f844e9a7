"""``toolkit preannotate --backend ray``: its flag, as the hints name it (the backend is
``toolkit.preannotate.backends.ray``, the job that builds it ``toolkit.preannotate.job``)."""

# The library's hint about the address names the setting; here it names the flag too.
ADDRESS_HINT = ("check ray.address", "check --address (ray.address)")
