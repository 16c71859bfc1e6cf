from setuptools import find_namespace_packages, setup

with open("README.md", encoding="utf-8") as f:
    README = f.read()

requires = [
    # pyramid 2.1 still imports pkg_resources, which setuptools 82 removed.
    "setuptools<82",
    "pyramid>=2.0",
    "pyramid_tm",
    "pyramid_retry",
    "pyramid_zodbconn",
    "pyramid_chameleon",
    "pyramid_services",
    # init reads the ini's [server:main] to say where the site is served.
    "plaster",
    "zodburi",
    "ZODB",
    # Development's shared database: `make zeo`, development-zeo.ini.
    "ZEO",
    "BTrees",
    "persistent",
    "RelStorage[postgresql]",
    "transaction",
    "waitress",
    "Chameleon",
    "cryptography",
    "colander",
    "argon2-cffi",
    # Verifies imported bcrypt hashes until their next sign-in re-hashes them.
    "bcrypt",
    # The console import's progress bar.
    "rich",
    # Names browsers on each account's activity page ("Firefox on Linux").
    "ua-parser>=1.0",
    "zxcvbn",
    # One mailbox per address field, international domains included.
    "email-validator>=2",
    # Mixed-script login names, and Unicode's confusables for look-alikes.
    "confusable-homoglyphs",
    "orjson",
    "zope.interface",
    # Mail to an international domain goes out with the domain in IDNA form.
    "idna",
    # The weekly security report's PDF; 68 brought the URLFetcher it subclasses.
    "weasyprint>=68",
]

tests_require = [
    "WebTest",
    "pytest",
    "pytest-cov",
    "coverage",
    "ruff",
    "import-linter",
    "aiosmtpd",
    "playwright",
    # Fuzzing every form handler in-process, and the served API from its
    # /openapi.json (tests/functional/test_fuzz_forms.py,
    # tests/integration/test_schemathesis.py); the document checked
    # against the OpenAPI 3.1 schema.
    "hypothesis",
    "schemathesis",
    "openapi-spec-validator",
]

setup(
    name="wingapp",
    version="0.1.0",
    description="Accounts and two-step verification on Pyramid and ZODB",
    long_description=README,
    long_description_content_type="text/markdown",
    classifiers=[
        "Programming Language :: Python :: 3",
        "Framework :: Pyramid",
        "Topic :: Internet :: WWW/HTTP :: WSGI :: Application",
    ],
    python_requires=">=3.11",
    package_dir={"": "src"},
    # Namespace discovery, so that templates/ and static/ (folders without
    # __init__.py) are listed with the code: setuptools warns about every
    # importable-looking folder missing from `packages`. Their files come
    # from MANIFEST.in.
    packages=find_namespace_packages(
        "src", include=["wingapp", "wingapp.*"], exclude=["*.__pycache__"]
    ),
    include_package_data=True,
    zip_safe=False,
    install_requires=requires,
    extras_require={"test": tests_require},
    entry_points={
        "paste.app_factory": ["main = wingapp:main"],
        "console_scripts": ["wingapp = wingapp.scripts.cli:main"],
    },
)
