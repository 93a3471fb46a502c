// The book's search: MiniSearch over every section's prose and code, all in the page.
// The index (search/documents.js) and the library (search/minisearch.js) are loaded on the first
// keystroke with <script> tags, which work from file:// where fetch() does not.
(function () {
  "use strict";
  const root = (document.querySelector(".course-sidebar") || { dataset: {} }).dataset.bookRoot || "";
  const input = document.getElementById("course-search-input");
  const list = document.getElementById("course-search-results");
  const status = document.getElementById("course-search-status");
  if (!input || !list) return;
  let index = null;
  let loading = null;

  function load(src) {
    return new Promise(function (resolve, reject) {
      const script = document.createElement("script");
      script.src = root + src;
      script.onload = resolve;
      script.onerror = function () { reject(new Error("could not load " + src)); };
      document.head.appendChild(script);
    });
  }

  function ready() {
    if (!loading) {
      loading = load("search/minisearch.js").then(function () { return load("search/documents.js"); }).then(function () {
        index = new window.MiniSearch({
          fields: ["heading", "title", "text"],
          storeFields: ["heading", "title", "href"],
          searchOptions: {
            boost: { heading: 3, title: 2 }, prefix: true, fuzzy: 0.15,
            // a lesson teaches what its exercises practise: on a tie of words, the lesson comes first
            boostDocument: function (id, term, stored) { return stored.href.startsWith("notebooks/") ? 1.5 : 1; },
          },
        });
        index.addAll(window.COURSE_SEARCH_DOCUMENTS);
      });
    }
    return loading;
  }

  function show(query) {
    list.replaceChildren();
    if (!query.trim()) { status.textContent = ""; return; }
    const hits = index.search(query).slice(0, 12);
    status.textContent = hits.length ? hits.length + (hits.length === 12 ? "+" : "") + " sections found" : "nothing found";
    for (const hit of hits) {
      const item = document.createElement("li");
      const link = document.createElement("a");
      link.href = root + hit.href;
      link.textContent = hit.heading;
      const page = document.createElement("span");
      page.className = "course-search-page";
      page.textContent = hit.title;
      link.appendChild(page);
      item.appendChild(link);
      list.appendChild(item);
    }
  }

  input.addEventListener("input", function () {
    ready().then(function () { show(input.value); }, function (error) { status.textContent = error.message; });
  });
  input.form.addEventListener("submit", function (event) {
    event.preventDefault();
    const first = list.querySelector("a");
    if (first) window.location.href = first.href;
  });
})();
