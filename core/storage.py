from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):  # type: ignore[misc]  # whitenoise is untyped
    """WhiteNoise's compressed, hashed static files, with ES module imports rewritten.

    The Mini App is plain ES modules: `import ... from "./api.js"` must name the
    hashed file too, or a deploy could mix an old module with a new one for as long
    as browsers cache the unhashed name.
    """

    support_js_module_import_aggregation = True
