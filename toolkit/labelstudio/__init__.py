"""Everything that talks to Label Studio: the client (the only user of SDK internals),
projects, payloads and the labeling config, the export download, the local server."""
