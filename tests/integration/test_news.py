"""News reaches the pages it may change: news of tasks every page, a verdict on an annotation
only its author's pages (a reviewer judging every 2 s must not have every open page of the team
read its board again). What PostgreSQL's NOTIFY and SQLite's polling both hand on, on both."""

from __future__ import annotations

from annotation_kit.app import news


class Page:
    def __init__(self, person: str) -> None:
        self.told = 0
        news.watch(self, self.tell, person)

    def tell(self) -> None:
        self.told += 1


def test_a_verdict_reaches_its_authors_pages_and_task_news_everyone(work):
    team, task, ids = work
    ann, rita = team["ann"], team["rita"]
    ann.tasks.start(task)
    made = ann.annotations.add(task, ids[0], start_ns=0, end_ns=1_000_000, skill="pick")
    ann.annotations.add(task, ids[1], start_ns=0, end_ns=1_000_000, skill="pick")
    ann.tasks.submit(task)
    pages = {name: Page(name) for name in ("ann", "rita", "maya")}
    rita.reviews.judge(made.id, "reject", comment="ends too early")
    db = ann.db
    judged = [("annotation", "review_reject", made.id)]
    assert news._concerned(db, judged) == {"ann"}
    news._tell(news._concerned(db, judged))
    assert {name: page.told for name, page in pages.items()} == {"ann": 1, "rita": 0, "maya": 0}
    # a task's news (here a rejection sent back) may change every board: everyone is told
    submitted = [("task", "reject", task), *judged]
    assert news._concerned(db, submitted) is news.EVERYONE
    news._tell(news._concerned(db, submitted))
    assert {name: page.told for name, page in pages.items()} == {"ann": 2, "rita": 1, "maya": 1}
    # PostgreSQL's NOTIFY payload, as events.record writes it
    assert news._parsed(f"annotation:{made.id}:review_reject") == judged
    assert news._parsed("annotation:x:review_pass") == []
