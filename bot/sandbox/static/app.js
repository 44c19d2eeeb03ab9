// PropDesk sandbox page: draws every persona's chat with the bot and acts in it.
// Plain JavaScript for a current browser; no build step, nothing loaded from elsewhere.
// Text from people or the bot is only ever set with textContent, never parsed as HTML.
"use strict";

(() => {
  const PALETTE = ["#e17076", "#7bc862", "#65aadd", "#a695e7", "#ee7aae", "#6ec9cb", "#faa774", "#5eaed6"];
  const PHOTO_LIMIT = 10 * 1024 * 1024;
  const page = {
    locale: null,
    strings: {},
    version: -1,
    windows: new Map(), // chat id -> window record
  };

  // ---------------------------------------------------------------- helpers

  function t(msgid, params) {
    let text = Object.prototype.hasOwnProperty.call(page.strings, msgid) ? page.strings[msgid] : msgid;
    for (const [key, value] of Object.entries(params || {})) {
      text = text.split("{" + key + "}").join(String(value));
    }
    return text;
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function translate(root) {
    for (const node of root.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
    for (const node of root.querySelectorAll("[data-t-title]")) node.title = t(node.dataset.tTitle);
    for (const node of root.querySelectorAll("[data-t-placeholder]")) node.placeholder = t(node.dataset.tPlaceholder);
    for (const node of root.querySelectorAll("[data-t-label]")) node.setAttribute("aria-label", t(node.dataset.tLabel));
  }

  async function post(path, body, contentType) {
    const raw = contentType !== undefined;
    const response = await fetch(path, {
      method: "POST",
      headers: { "X-PropDesk-Sandbox": "1", "Content-Type": raw ? contentType : "application/json" },
      body: raw ? body : JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(data.error || response.statusText);
    return data;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function initials(name) {
    const words = name.trim().split(/\s+/);
    if (words.length > 1) return (words[0][0] + words[1][0]).toUpperCase();
    return Array.from(name.trim()).slice(0, 1).join("").toUpperCase();
  }

  function formatDay(day) {
    const [y, m, d] = day.split("-").map(Number);
    const tag = page.locale === "zh_CN" ? "zh-CN" : "en-GB";
    return new Date(y, m - 1, d).toLocaleDateString(tag, { weekday: "short", month: "long", day: "numeric" });
  }

  // ---------------------------------------------------------------- a chat window

  function makeWindow(chat, index) {
    const section = document.getElementById("chat-template").content.firstElementChild.cloneNode(true);
    translate(section);
    section.dataset.persona = chat.key;
    section.dataset.chat = String(chat.id);
    const win = {
      id: chat.id,
      node: section,
      list: section.querySelector(".messages"),
      empty: section.querySelector(".empty"),
      rendered: new Map(), // message id -> {sig, node}
      commands: [],
      toastSeen: null,
      toastTimer: null,
    };
    const avatar = section.querySelector(".persona-avatar");
    avatar.style.background = PALETTE[index % PALETTE.length];
    bindComposer(win);
    section.querySelector(".alert-ok").addEventListener("click", () => {
      section.querySelector(".alert").hidden = true;
    });
    document.getElementById("chats").appendChild(section);
    return win;
  }

  function bindComposer(win) {
    const form = win.node.querySelector(".composer");
    const input = win.node.querySelector(".text");
    const file = win.node.querySelector(".file");
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = "";
      closeMenu(win);
      try {
        await post(`/api/chats/${win.id}/text`, { text });
      } catch (error) {
        input.value = text;
        showToast(win, t("Telegram refused this: {reason}", { reason: error.message }));
      }
    });
    input.addEventListener("input", () => {
      const value = input.value;
      if (value.startsWith("/") && !value.includes(" ")) openMenu(win, value.slice(1));
      else closeMenu(win);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeMenu(win);
    });
    win.node.querySelector(".menu-button").addEventListener("click", () => {
      if (win.node.querySelector(".menu-pop").hidden) openMenu(win, "");
      else closeMenu(win);
    });
    win.node.querySelector(".attach").addEventListener("click", () => file.click());
    file.addEventListener("change", async () => {
      const picked = file.files && file.files[0];
      file.value = "";
      if (!picked) return;
      if (!picked.type.startsWith("image/")) return showToast(win, t("Only pictures can be sent as photos."));
      if (picked.size > PHOTO_LIMIT) return showToast(win, t("The photo is too large (10 MB at most)."));
      try {
        await post(`/api/chats/${win.id}/photo`, picked, picked.type);
      } catch (error) {
        showToast(win, t("Telegram refused this: {reason}", { reason: error.message }));
      }
    });
  }

  function openMenu(win, filter) {
    const pop = win.node.querySelector(".menu-pop");
    const list = pop.querySelector(".menu-list");
    list.replaceChildren();
    const shown = win.commands.filter((c) => c.command.startsWith(filter));
    for (const command of shown) {
      const button = el("button", "menu-item");
      button.type = "button";
      button.dataset.command = command.command;
      button.append(el("span", "menu-cmd", "/" + command.command), el("span", "menu-desc", command.description));
      button.addEventListener("click", async () => {
        closeMenu(win);
        win.node.querySelector(".text").value = "";
        try {
          await post(`/api/chats/${win.id}/text`, { text: "/" + command.command });
        } catch (error) {
          showToast(win, t("Telegram refused this: {reason}", { reason: error.message }));
        }
      });
      const item = el("li");
      item.append(button);
      list.append(item);
    }
    if (!shown.length) {
      if (filter) return closeMenu(win);
      list.append(el("li", "menu-none", t("This bot has no commands for this chat yet.")));
    }
    pop.hidden = false;
  }

  function closeMenu(win) {
    win.node.querySelector(".menu-pop").hidden = true;
  }

  function showToast(win, text) {
    const toast = win.node.querySelector(".toast");
    toast.textContent = text;
    toast.hidden = false;
    clearTimeout(win.toastTimer);
    win.toastTimer = setTimeout(() => { toast.hidden = true; }, 3500);
  }

  function showAlert(win, text) {
    win.node.querySelector(".alert-text").textContent = text;
    win.node.querySelector(".alert").hidden = false;
  }

  // ---------------------------------------------------------------- messages

  function buildMessage(win, message, showDay) {
    const item = el("div", "item");
    item.dataset.id = String(message.id);
    if (showDay) {
      const day = el("div", "day");
      day.append(el("span", null, formatDay(message.day)));
      item.append(day);
    }
    const row = el("div", "row " + (message.out ? "out" : "in"));
    const box = el("div", "msg");
    const bubble = el("div", "bubble");
    if (message.photo) {
      bubble.classList.add("has-photo");
      const img = el("img", "photo");
      img.alt = t("Photo");
      img.src = message.photo;
      img.addEventListener("load", () => stickToBottom(win));
      bubble.append(img);
    }
    const text = message.text !== null ? message.text : message.caption;
    const meta = el("span", "meta", (message.edited ? t("edited") + " " : "") + message.time + (message.out ? " ✓✓" : ""));
    if (text) {
      const body = el("div", "text", text);
      body.append(meta);
      bubble.append(body);
    } else {
      bubble.append(meta);
    }
    box.append(bubble);
    if (message.buttons.length) box.append(buildKeyboard(win, message));
    row.append(box);
    item.append(row);
    return item;
  }

  function buildKeyboard(win, message) {
    const keyboard = el("div", "kb");
    message.buttons.forEach((buttons, r) => {
      const row = el("div", "kb-row");
      buttons.forEach((button, c) => {
        if (button.kind === "url" && button.url) {
          const link = el("a", "kb-btn", button.text + " ↗");
          link.href = button.url;
          link.target = "_blank";
          link.rel = "noopener noreferrer";
          row.append(link);
          return;
        }
        const node = el("button", "kb-btn", button.text);
        node.type = "button";
        node.title = button.text;
        node.addEventListener("click", async () => {
          node.classList.add("pending");
          try {
            await post(`/api/chats/${win.id}/press`, { message_id: message.id, row: r, col: c });
          } catch (error) {
            showToast(win, t("Telegram refused this: {reason}", { reason: error.message }));
          } finally {
            node.classList.remove("pending");
          }
        });
        row.append(node);
      });
      keyboard.append(row);
    });
    return keyboard;
  }

  function atBottom(win) {
    const list = win.list;
    return list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  }

  function stickToBottom(win) {
    if (win.stick) win.list.scrollTop = win.list.scrollHeight;
  }

  function renderMessages(win, messages) {
    win.stick = win.rendered.size === 0 || atBottom(win);
    const seen = new Set();
    let previousDay = null;
    let previousNode = null;
    for (const message of messages) {
      seen.add(message.id);
      const showDay = message.day !== previousDay;
      previousDay = message.day;
      const sig = JSON.stringify([message, showDay]);
      let entry = win.rendered.get(message.id);
      if (!entry || entry.sig !== sig) {
        const node = buildMessage(win, message, showDay);
        if (entry) entry.node.replaceWith(node);
        else if (previousNode) previousNode.after(node);
        else win.list.append(node);
        entry = { sig, node };
        win.rendered.set(message.id, entry);
      }
      previousNode = entry.node;
    }
    for (const [id, entry] of win.rendered) {
      if (!seen.has(id)) {
        entry.node.remove();
        win.rendered.delete(id);
      }
    }
    win.empty.hidden = messages.length > 0;
    stickToBottom(win);
  }

  function renderToasts(win, toasts) {
    const last = toasts.length ? toasts[toasts.length - 1] : null;
    if (win.toastSeen === null) { // first drawing: old toasts are history
      win.toastSeen = last ? last.seq : 0;
      return;
    }
    if (!last || last.seq <= win.toastSeen) return;
    win.toastSeen = last.seq;
    if (last.alert) showAlert(win, last.text);
    else showToast(win, last.text);
  }

  function renderChat(chat, index) {
    let win = page.windows.get(chat.id);
    if (!win) {
      win = makeWindow(chat, index);
      page.windows.set(chat.id, win);
    }
    win.node.querySelector(".persona-avatar").textContent = initials(chat.name);
    win.node.querySelector(".persona-name").textContent = chat.name;
    win.node.querySelector(".persona-role").textContent = chat.role + " · " + chat.detail;
    win.commands = chat.commands;
    renderMessages(win, chat.messages);
    renderToasts(win, chat.toasts);
  }

  function render(state) {
    page.version = state.version;
    document.getElementById("clock-label").textContent = state.clock.label;
    const open = document.getElementById("clock-open");
    open.textContent = state.clock.open ? t("office open") : t("office closed");
    open.classList.toggle("closed", !state.clock.open);
    for (const node of document.querySelectorAll(".bot-name")) node.textContent = state.bot.name;
    state.chats.forEach(renderChat);
  }

  // ---------------------------------------------------------------- page

  function banner(text) {
    const node = document.getElementById("banner");
    node.textContent = text || "";
    node.hidden = !text;
  }

  function drawLanguages(languages) {
    const nav = document.getElementById("langs");
    nav.replaceChildren();
    for (const [code, name] of Object.entries(languages)) {
      const link = el("a", code === page.locale ? "current" : "", name);
      const params = new URLSearchParams(location.search);
      params.set("lang", code);
      link.href = "?" + params.toString();
      link.lang = code === "zh_CN" ? "zh-CN" : code;
      if (code === page.locale) link.setAttribute("aria-current", "true");
      nav.append(link);
    }
  }

  function bindClock() {
    const buttons = document.querySelectorAll(".jump");
    for (const button of buttons) {
      button.addEventListener("click", async () => {
        buttons.forEach((b) => { b.disabled = true; });
        try {
          await post("/api/clock", { minutes: Number(button.dataset.minutes) });
        } catch (error) {
          banner(t("Telegram refused this: {reason}", { reason: error.message }));
        } finally {
          buttons.forEach((b) => { b.disabled = false; });
        }
      });
    }
    document.addEventListener("click", (event) => {
      for (const win of page.windows.values()) {
        const inside = win.node.querySelector(".menu-pop").contains(event.target)
          || win.node.querySelector(".menu-button").contains(event.target);
        if (!inside) closeMenu(win);
      }
    });
  }

  async function poll() {
    for (;;) {
      try {
        const query = new URLSearchParams({ since: String(page.version), wait: "25", lang: page.locale });
        const response = await fetch("/api/state?" + query.toString(), { cache: "no-store" });
        if (!response.ok) throw new Error(response.statusText);
        const state = await response.json();
        banner("");
        render(state);
        document.body.dataset.version = String(state.version);
      } catch (error) {
        banner(t("Connection to the sandbox lost; retrying…"));
        await sleep(1000);
      }
    }
  }

  async function start() {
    const wanted = new URLSearchParams(location.search).get("lang") || "";
    for (;;) {
      try {
        const response = await fetch("/api/strings?lang=" + encodeURIComponent(wanted));
        const data = await response.json();
        page.locale = data.locale;
        page.strings = data.strings;
        drawLanguages(data.languages);
        break;
      } catch (error) {
        banner("…");
        await sleep(1000);
      }
    }
    document.documentElement.lang = page.locale === "zh_CN" ? "zh-CN" : "en";
    document.title = t("PropDesk sandbox");
    translate(document.body);
    bindClock();
    poll();
  }

  start();
})();
