// Live parts of the console: an element with data-stream follows server-sent
// events. The server sends HTML it rendered and escaped; "prepend" puts each
// new piece on top (the inbox), "replace" swaps the whole content (a login).
"use strict";

document.querySelectorAll("[data-stream]").forEach(function (box) {
  var live = document.querySelector('[data-live-for="' + box.id + '"]');
  var source = new EventSource(box.dataset.stream);

  function show(state, text) {
    if (live) {
      live.dataset.state = state;
      live.textContent = text;
    }
  }

  source.onopen = function () { show("open", "实时更新中"); };
  source.onerror = function () { show("closed", "连接中断，正在重连…"); };

  source.addEventListener("sms", function (event) {
    var html = JSON.parse(event.data).html;
    box.insertAdjacentHTML("afterbegin", html);
    box.firstElementChild.classList.add("arrived");
    var empty = document.querySelector('[data-empty-for="' + box.id + '"]');
    if (empty) { empty.remove(); }
  });

  source.addEventListener("login", function (event) {
    var data = JSON.parse(event.data);
    box.innerHTML = data.html;
    if (data.final) {
      source.close();
      show("closed", "已结束");
    }
  });
});
