"""Where sources and destinations are: URLs as stored and shown (no database)."""

from annotation_kit.store.locations import locate


def test_urls_are_stored_once_and_without_credentials():
    assert locate("http://example.com/a/b.mcap").url == "http://example.com/a/b.mcap"
    assert locate("https://ann:hunter2@example.com/a.mcap").url == "https://example.com/a.mcap"
    assert locate("s3://bucket/run/x.mcap").url == "s3://bucket/run/x.mcap"
    child = locate("https://ann:hunter2@example.com/data").child("meta/info.json")
    assert child.url == "https://example.com/data/meta/info.json"
    assert "hunter2" in child.path  # the credentials still open the file, they are not shown
