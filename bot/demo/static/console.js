"use strict";
// Lead Bot demo console: a small, local stand-in for the Slack client.
// It polls the console server for the whole state, renders channels, threads, the App Home
// and modals with a Block Kit renderer, and posts the user's commands and actions back.
// All text comes from outside and is treated as hostile: the DOM is built with nodes and
// textContent only, never innerHTML.
(() => {
  const POLL_MS = 500;
  const OPTIONS_DEBOUNCE_MS = 250;
  const SAFE_LINK_RE = /^(https?:|mailto:|tel:)/i;
  // Images only from this machine: nothing the page shows is fetched from elsewhere.
  const SAFE_IMAGE_RE = /^(data:image\/|https?:\/\/(127\.0\.0\.1|localhost)[:/])/i;

  const $ = (id) => document.getElementById(id);
  let fieldCounter = 0; // for unique ids (label targets, radio names, datalists)

  const ui = {
    state: null,
    version: null,
    view: "channel", // "channel" or "home"
    channelId: null,
    homeTab: "home",
    seen: new Map(), // channel id -> newest ts the user has seen there
    unread: new Set(),
    dismissed: new Set(), // notice ids the user closed
    localToasts: [], // errors of the console's own requests
    messageCache: new Map(), // ts -> {sig, el} for the channel shown
    intro: null, // the "beginning of #channel" node of the channel shown
    renderedChannel: null,
    stick: true, // keep the message list scrolled to the bottom
    modal: null, // {key, id, form, close} of the modal shown
    modalForms: new Map(), // view id -> form, for every modal in the stack
    home: null, // {key, id, form}
    noticeKey: null,
    sandboxKey: null,
    polling: false,
    pollAgain: false,
    pollTimer: null,
  };

  // ---------------------------------------------------------------- DOM helpers

  const PROPS = new Set(["value", "checked", "disabled", "selected", "multiple", "hidden"]);

  // Builds an element; strings among the children become text nodes (never HTML).
  function h(tag, attrs = {}, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value == null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else if (PROPS.has(key)) el[key] = value;
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    appendAll(el, children);
    return el;
  }

  function appendAll(parent, children) {
    for (const child of children.flat(Infinity)) {
      if (child == null || child === false) continue;
      parent.append(child instanceof Node ? child : String(child));
    }
    return parent;
  }

  function svgIcon(pathData) {
    const ns = "http://www.w3.org/2000/svg";
    const svg = document.createElementNS(ns, "svg");
    svg.setAttribute("viewBox", "0 0 20 20");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("class", "icon");
    const path = document.createElementNS(ns, "path");
    path.setAttribute("d", pathData);
    svg.append(path);
    return svg;
  }
  const EYE_PATH = "M10 4C5.5 4 2.2 7.2 1 10c1.2 2.8 4.5 6 9 6s7.8-3.2 9-6c-1.2-2.8-4.5-6-9-6zm0 10a4 4 0 110-8 4 4 0 010 8zm0-6a2 2 0 100 4 2 2 0 000-4z";

  // Replaces children in place so unchanged nodes (and their inputs, menus, focus) survive.
  function syncChildren(parent, nodes) {
    nodes.forEach((node, i) => {
      if (parent.children[i] !== node) parent.insertBefore(node, parent.children[i] ?? null);
    });
    while (parent.children.length > nodes.length) parent.lastElementChild.remove();
  }

  // ---------------------------------------------------------------- mrkdwn

  const EMOJI = {
    white_check_mark: "✅", x: "❌", warning: "⚠️", telephone_receiver: "📞", phone: "☎️",
    telephone: "☎️", calendar: "📆", spiral_calendar_pad: "🗓️", date: "📅", hourglass: "⌛",
    hourglass_flowing_sand: "⏳", bell: "🔔", mag: "🔍", mag_right: "🔎", memo: "📝",
    speech_balloon: "💬", headphones: "🎧", link: "🔗", lock: "🔒", key: "🔑",
    bust_in_silhouette: "👤", busts_in_silhouette: "👥", chart_with_upwards_trend: "📈",
    chart_with_downwards_trend: "📉", bar_chart: "📊", arrows_counterclockwise: "🔄", repeat: "🔁",
    pause_button: "⏸️", arrow_forward: "▶️", large_green_circle: "🟢", red_circle: "🔴",
    large_yellow_circle: "🟡", white_circle: "⚪", no_entry: "⛔", no_entry_sign: "🚫", email: "📧",
    envelope: "✉️", "+1": "👍", thumbsup: "👍", "-1": "👎", thumbsdown: "👎", tada: "🎉",
    rocket: "🚀", zap: "⚡", fire: "🔥", star: "⭐", eyes: "👀", globe_with_meridians: "🌐",
    earth_americas: "🌎", inbox_tray: "📥", outbox_tray: "📤", robot_face: "🤖",
    mailbox_with_mail: "📬", question: "❓", exclamation: "❗", heavy_check_mark: "✔️",
    wave: "👋", trophy: "🏆", hand: "✋", raised_hand: "✋", thinking_face: "🤔", label: "🏷️",
    mega: "📣", loudspeaker: "📢", clipboard: "📋", card_index: "📇", vhs: "📼",
    information_source: "ℹ️", gear: "⚙️", pencil2: "✏️",
  };
  for (let i = 1; i <= 12; i++) EMOJI[`clock${i}`] = String.fromCodePoint(0x1f54f + i);

  const emojify = (s) => String(s ?? "").replace(/:([a-z0-9_+-]+):/g, (m, code) => EMOJI[code] ?? m);

  // Slack escapes exactly these three in message text; decode once, in a single pass.
  const ENTITIES = { amp: "&", lt: "<", gt: ">" };
  const decodeEntities = (s) => s.replace(/&(amp|lt|gt);/g, (m, name) => ENTITIES[name]);

  // Renders Slack mrkdwn as DOM: ```pre``` blocks, "> " quote lines, then inline markup.
  function mrkdwn(text, tag = "div") {
    const root = h(tag, { class: "mrkdwn" });
    const parts = String(text ?? "").split("```");
    if (parts.length % 2 === 0) {
      const unmatched = parts.pop(); // an odd number of fences: the last one is literal
      parts[parts.length - 1] += "```" + unmatched;
    }
    parts.forEach((part, i) => {
      if (i % 2 === 1) {
        root.append(h("pre", {}, decodeEntities(part.replace(/^\n/, ""))));
        return;
      }
      let prose = part;
      if (i > 0) prose = prose.replace(/^\n/, "");
      if (i < parts.length - 1) prose = prose.replace(/\n$/, "");
      appendLines(root, prose);
    });
    return root;
  }

  const QUOTE_RE = /^(?:>|&gt;) ?/;

  // Groups consecutive quote lines into one blockquote; other lines stay inline (pre-wrap).
  function appendLines(root, text) {
    if (!text) return;
    let run = [];
    let quoted = false;
    const flush = () => {
      if (!run.length) return;
      root.append(quoted ? h("blockquote", {}, inline(run.join("\n"))) : h("span", {}, inline(run.join("\n"))));
      run = [];
    };
    for (const line of text.split("\n")) {
      const isQuote = QUOTE_RE.test(line);
      if (isQuote !== quoted) flush();
      quoted = isQuote;
      run.push(isQuote ? line.replace(QUOTE_RE, "") : line);
    }
    flush();
  }

  // `code` and <…> escapes are opaque to *bold* _italic_ ~strike~ (dates hold underscores),
  // so they are swapped for private-use placeholders before the styles are parsed.
  const OPAQUE_RE = /`([^`\n]+)`|<([^<>\n]+)>/g;
  const PLACEHOLDER_RE = /\uE000(\d+)\uE001/;
  const STYLE_RE = /(?<![\p{L}\p{N}])([*_~])(?!\s)(.+?)(?<!\s)\1(?![\p{L}\p{N}])/u;
  const STYLE_TAGS = { "*": "b", _: "i", "~": "s" };

  function inline(text) {
    const tokens = [];
    const masked = text.replace(OPAQUE_RE, (m, code, angle) => {
      tokens.push(code !== undefined ? { code } : { angle });
      return `\uE000${tokens.length - 1}\uE001`;
    });
    const frag = document.createDocumentFragment();
    appendStyled(frag, masked, tokens);
    return frag;
  }

  function appendStyled(parent, text, tokens) {
    let rest = text;
    while (rest) {
      const m = STYLE_RE.exec(rest);
      if (!m) break;
      appendTokens(parent, rest.slice(0, m.index), tokens);
      const styled = document.createElement(STYLE_TAGS[m[1]]);
      appendStyled(styled, m[2], tokens);
      parent.append(styled);
      rest = rest.slice(m.index + m[0].length);
    }
    appendTokens(parent, rest, tokens);
  }

  function appendTokens(parent, text, tokens) {
    const pieces = text.split(PLACEHOLDER_RE); // odd indices are token numbers
    pieces.forEach((piece, i) => {
      if (i % 2 === 0) {
        if (piece) parent.append(emojify(decodeEntities(piece)));
        return;
      }
      const token = tokens[Number(piece)];
      parent.append(token.code !== undefined ? h("code", {}, decodeEntities(token.code)) : angle(token.angle));
    });
  }

  // One Slack <…> escape: mention, channel, special command, date or link.
  function angle(body) {
    const bar = body.indexOf("|");
    const target = bar < 0 ? body : body.slice(0, bar);
    const label = bar < 0 ? "" : emojify(decodeEntities(body.slice(bar + 1)));
    if (target.startsWith("@")) return pill(`@${label || userName(target.slice(1))}`);
    if (target.startsWith("#")) return pill(`#${label || channelName(target.slice(1))}`);
    if (target.startsWith("!")) return special(target.slice(1), label);
    // Not a Slack escape at all (say "<b>"): show it as it was written.
    if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) return document.createTextNode(decodeEntities(`<${body}>`));
    return link(decodeEntities(target), label);
  }

  function special(command, label) {
    if (["here", "channel", "everyone"].includes(command)) return pill(`@${command}`);
    if (command.startsWith("subteam^")) return pill(label || "@group");
    if (command.startsWith("date^")) {
      const [, ts, format, url] = command.split("^");
      return dateNode(Number(ts), format, label, url ? decodeEntities(url) : null);
    }
    return document.createTextNode(label || `<!${command}>`);
  }

  // Only http(s), mailto and tel become links; anything else is shown as inert text.
  function link(url, label) {
    if (!SAFE_LINK_RE.test(url)) return document.createTextNode(label || url);
    return h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, label || url);
  }

  const pill = (text) => h("span", { class: "mention" }, text);

  function userName(id) {
    const s = ui.state;
    if (s?.user?.id === id) return s.user.name;
    if (s?.bot?.user_id === id) return s.bot.name;
    return id;
  }

  function channelName(id) {
    return ui.state?.channels?.find((c) => c.id === id)?.name ?? id;
  }

  // ---------------------------------------------------------------- dates

  const pad = (n) => String(n).padStart(2, "0");
  const DATE_LONG = { year: "numeric", month: "long", day: "numeric" };
  const DATE_SHORT = { year: "numeric", month: "short", day: "numeric" };
  const DATE_WEEKDAY = { weekday: "long", ...DATE_LONG };

  function relativeDay(d) {
    const today = new Date();
    today.setHours(0, 0, 0, 0);
    const day = new Date(d);
    day.setHours(0, 0, 0, 0);
    const diff = Math.round((day - today) / 86400000);
    return { 0: "today", [-1]: "yesterday", 1: "tomorrow" }[diff] ?? null;
  }

  function ago(d) {
    const seconds = (d - Date.now()) / 1000;
    const fmt = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
    const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size) return fmt.format(Math.round(seconds / size), unit);
    }
    return fmt.format(Math.round(seconds), "second");
  }

  const DATE_TOKENS = {
    date_num: (d) => `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`,
    date: (d) => d.toLocaleDateString(undefined, DATE_LONG),
    date_short: (d) => d.toLocaleDateString(undefined, DATE_SHORT),
    date_long: (d) => d.toLocaleDateString(undefined, DATE_WEEKDAY),
    date_pretty: (d) => relativeDay(d) ?? DATE_TOKENS.date(d),
    date_short_pretty: (d) => relativeDay(d) ?? DATE_TOKENS.date_short(d),
    date_long_pretty: (d) => relativeDay(d) ?? DATE_TOKENS.date_long(d),
    time: (d) => d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit" }),
    time_secs: (d) => d.toLocaleTimeString(undefined, { hour: "numeric", minute: "2-digit", second: "2-digit" }),
    ago,
  };

  function formatDate(seconds, format) {
    const d = new Date(seconds * 1000);
    if (!Number.isFinite(seconds) || !format || Number.isNaN(d.getTime())) return null;
    const text = format.replace(/\{(\w+)\}/g, (m, token) => (DATE_TOKENS[token] ? DATE_TOKENS[token](d) : m));
    return text.charAt(0).toUpperCase() + text.slice(1); // "today at 5:03 PM" starts a sentence
  }

  function dateNode(seconds, format, fallback, url) {
    const text = formatDate(seconds, format) ?? fallback;
    const node = h("time", { title: fallback || null }, text);
    return url && SAFE_LINK_RE.test(url) ? h("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, node) : node;
  }

  // ---------------------------------------------------------------- text objects

  const plainText = (t) => (t ? emojify(t.text) : "");

  function textObject(t, tag = "div") {
    if (!t) return null;
    return t.type === "mrkdwn" ? mrkdwn(t.text, tag) : h(tag, { class: "plain" }, plainText(t));
  }

  function image(el, cls) {
    const src = String(el.image_url ?? el.url ?? "");
    if (!SAFE_IMAGE_RE.test(src)) return h("span", { class: `${cls} image-missing` }, el.alt_text ?? "image");
    return h("img", { class: cls, src, alt: el.alt_text ?? "", title: el.alt_text ?? null, loading: "lazy", onload: keepBottom });
  }

  // ---------------------------------------------------------------- forms (view state)

  // A form gathers one getter per input-ish element so STATE can be read at any time,
  // and the error slots of input blocks. `preset` carries values over a view update.
  const newForm = (preset) => ({ fields: [], errors: new Map(), preset: preset ?? {} });

  function collect(form) {
    const values = {};
    for (const f of form?.fields ?? []) (values[f.blockId] ??= {})[f.actionId] = f.get();
    return values;
  }

  function register(ctx, get) {
    ctx.form?.fields.push({ blockId: ctx.blockId, actionId: ctx.actionId, get });
  }

  // Slack keeps what the user entered in input blocks across views.update (same ids).
  const presetOf = (ctx) => (ctx.inInput ? ctx.form?.preset?.[ctx.blockId]?.[ctx.actionId] : undefined);

  // Elements outside input blocks act at once; inside, only with dispatch_action.
  const fires = (ctx) => !ctx.inInput || ctx.dispatch;

  const baseAction = (el, ctx) => ({ type: el.type, action_id: ctx.actionId, block_id: ctx.blockId });

  async function sendAction(ctx, action) {
    const body = ctx.surface === "message"
      ? { surface: "message", channel: ctx.channel, ts: ctx.ts, action }
      : { surface: "view", view_id: ctx.viewId, action, values: collect(ctx.form) };
    const reply = await post("/demo/api/action", body);
    if (!reply.ok) toastError(reply.error);
    poll();
  }

  // ---------------------------------------------------------------- blocks

  function renderBlocks(blocks, ctx) {
    return (blocks ?? []).map((block, i) => renderBlock(block, i, ctx));
  }

  function renderBlock(block, index, ctx) {
    // Slack invents a block_id when the app gives none; ours is the block's position.
    const blockId = block?.block_id ?? `b${index}`;
    let el;
    try {
      const render = BLOCKS[block?.type];
      el = render ? render(block, { ...ctx, blockId }) : unsupported("block", block?.type);
    } catch (err) {
      console.warn("Could not render block", block, err); // a bad block must not break the page
      el = h("div", { class: "unsupported" }, `Could not show this ${block?.type ?? "unknown"} block`);
    }
    el.classList.add("block");
    el.dataset.blockId = blockId;
    return el;
  }

  const unsupported = (what, type) => h(what === "element" ? "span" : "div", { class: "unsupported" }, `Unsupported ${what}: ${type ?? "unknown"}`);

  function sectionBlock(block, ctx) {
    const fields = block.fields?.length ? h("div", { class: "section-fields" }, block.fields.map((f) => textObject(f))) : null;
    const body = h("div", { class: "section-body" }, textObject(block.text), fields);
    const accessory = block.accessory
      ? h("div", { class: "section-accessory" }, block.accessory.type === "image" ? image(block.accessory, "accessory-image") : element(block.accessory, ctx, 0))
      : null;
    return h("div", { class: "b-section" }, body, accessory);
  }

  function inputBlock(block, ctx) {
    const control = element(block.element ?? {}, { ...ctx, inInput: true, dispatch: Boolean(block.dispatch_action) }, 0);
    const error = h("div", { class: "input-error", role: "alert", hidden: true });
    ctx.form?.errors.set(ctx.blockId, error);
    const label = h("label", { class: "input-label" }, plainText(block.label), block.optional ? h("span", { class: "optional" }, " (optional)") : null);
    const focusable = control.matches("input, select, textarea") ? control : control.querySelector("input, select, textarea");
    if (focusable) {
      focusable.id ||= `field-${++fieldCounter}`;
      label.htmlFor = focusable.id;
    }
    return h("div", { class: "b-input" }, label, control, block.hint ? h("div", { class: "hint" }, plainText(block.hint)) : null, error);
  }

  function richTextBlock(block) {
    return h("div", { class: "b-rich-text" }, (block.elements ?? []).map(richPart));
  }

  function richPart(part) {
    switch (part.type) {
      case "rich_text_section": return h("div", {}, richInline(part.elements));
      case "rich_text_quote": return h("blockquote", {}, richInline(part.elements));
      case "rich_text_preformatted": return h("pre", {}, richInline(part.elements));
      case "rich_text_list": {
        const items = (part.elements ?? []).map((s) => h("li", {}, richInline(s.elements)));
        return h(part.style === "ordered" ? "ol" : "ul", { class: "rt-list", style: `margin-left:${(part.indent ?? 0) * 24}px` }, items);
      }
      default: return unsupported("rich text part", part.type);
    }
  }

  function richInline(elements = []) {
    return elements.map((e) => {
      let node;
      switch (e.type) {
        case "text": node = document.createTextNode(e.text ?? ""); break;
        case "link": node = link(String(e.url ?? ""), e.text); break;
        case "user": node = pill(`@${userName(e.user_id)}`); break;
        case "channel": node = pill(`#${channelName(e.channel_id)}`); break;
        case "usergroup": node = pill(`@${e.usergroup_id}`); break;
        case "broadcast": node = pill(`@${e.range}`); break;
        case "emoji": node = document.createTextNode(e.unicode ? String.fromCodePoint(...e.unicode.split("-").map((x) => parseInt(x, 16))) : EMOJI[e.name] ?? `:${e.name}:`); break;
        case "date": node = dateNode(Number(e.timestamp), e.format, e.fallback ?? "", e.url); break;
        default: node = document.createTextNode("");
      }
      for (const [key, tag] of [["code", "code"], ["strike", "s"], ["italic", "i"], ["bold", "b"]]) {
        if (e.style?.[key]) node = h(tag, {}, node);
      }
      return node;
    });
  }

  const BLOCKS = {
    header: (b) => h("div", { class: "b-header" }, plainText(b.text)),
    section: sectionBlock,
    divider: () => h("hr", { class: "b-divider" }),
    context: (b) => h("div", { class: "b-context" },
      (b.elements ?? []).map((e) => (e.type === "image" ? image(e, "context-image") : textObject(e, "span")))),
    actions: (b, ctx) => h("div", { class: "b-actions" }, (b.elements ?? []).map((e, i) => element(e, ctx, i))),
    image: (b) => h("figure", { class: "b-image" }, b.title ? h("figcaption", {}, plainText(b.title)) : null, image(b, "block-image")),
    input: inputBlock,
    rich_text: richTextBlock,
    video: (b) => h("div", { class: "b-placeholder" }, "▶ Video: ", plainText(b.title), " ",
      b.title_url ? link(String(b.title_url), "open") : null),
    file: (b) => h("div", { class: "b-placeholder" }, `File: ${b.external_id ?? "remote file"}`),
  };

  // ---------------------------------------------------------------- elements

  function element(el, ctx, index) {
    // Slack invents an action_id when the app gives none; ours is derived from the block.
    const actionId = el.action_id ?? `${ctx.blockId}.${index}`;
    const render = ELEMENTS[el.type];
    if (!render) return unsupported("element", el.type);
    const node = render(el, { ...ctx, actionId });
    // The test-facing ids go on the control itself (the text field of a combo box).
    const control = node.querySelector("[data-control]") ?? node;
    control.removeAttribute("data-control");
    control.dataset.actionId = actionId;
    control.dataset.blockId = ctx.blockId;
    return node;
  }

  // Runs `run` now, or after the user accepts the element's confirm dialog.
  function withConfirm(confirm, run) {
    if (!confirm) return run();
    return showConfirm(confirm).then((ok) => ok && run());
  }

  function openUrl(url) {
    if (url && SAFE_LINK_RE.test(url)) window.open(url, "_blank", "noopener");
  }

  function button(el, ctx) {
    const style = ["primary", "danger"].includes(el.style) ? el.style : "";
    return h("button", {
      type: "button", class: `btn ${style}`, "aria-label": el.accessibility_label ?? null,
      onclick: () => withConfirm(el.confirm, () => {
        openUrl(el.url); // Slack opens the link and still sends the action
        const action = baseAction(el, ctx);
        if (el.value !== undefined) action.value = el.value;
        return sendAction(ctx, action);
      }),
    }, plainText(el.text));
  }

  function overflow(el, ctx) {
    const trigger = h("button", { type: "button", class: "btn overflow-trigger", "aria-label": "More actions", "aria-haspopup": "menu" }, "⋮");
    trigger.addEventListener("click", (event) => {
      event.stopPropagation(); // the document click handler would close the menu at once
      openMenu(trigger, (el.options ?? []).map((opt) => ({
        label: plainText(opt.text),
        run: () => withConfirm(el.confirm, () => {
          openUrl(opt.url);
          return sendAction(ctx, { ...baseAction(el, ctx), selected_option: opt });
        }),
      })));
    });
    return trigger;
  }

  // Fills a native <select> from `groups` = [{label|null, items: [{value, text}]}]; option
  // values are positions in the flattened list, since Slack option values may repeat.
  function fillSelect(select, groups, placeholder, selectedValue) {
    const options = [h("option", { value: "", disabled: true, hidden: true }, placeholder || "Select an item")];
    let chosen = 0;
    const children = groups.map((group) => {
      const items = group.items.map((item) => {
        if (selectedValue != null && item.value === selectedValue) chosen = options.length;
        const option = h("option", { value: String(options.length - 1) }, item.text);
        options.push(option);
        return option;
      });
      return group.label ? h("optgroup", { label: group.label }, items) : items;
    });
    select.replaceChildren(options[0], ...children.flat());
    select.selectedIndex = chosen; // set last: inserting options resets the selection
    return select;
  }

  function optionGroups(el) {
    const groups = el.option_groups
      ? el.option_groups.map((g) => ({ label: plainText(g.label), options: g.options ?? [] }))
      : [{ label: null, options: el.options ?? [] }];
    return groups.map((g) => ({ label: g.label, items: g.options.map((o) => ({ value: o.value, text: plainText(o.text), option: o })) }));
  }

  function channelGroups() {
    return [{ label: null, items: (ui.state?.channels ?? []).map((c) => ({ value: c.id, text: `#${c.name}`, option: c.id })) }];
  }

  // static_select, conversations_select, channels_select: one choice in a native select.
  // `key` is the STATE/action field; `initial` the value pre-selected.
  function singleSelect(el, ctx, groups, key, initial) {
    const flat = groups.flatMap((g) => g.items);
    const preset = presetOf(ctx);
    const start = preset ? (key === "selected_option" ? preset[key]?.value : preset[key]) : initial;
    const select = fillSelect(h("select", { class: "select" }), groups, plainText(el.placeholder), start ?? null);
    const selected = () => (select.value === "" ? null : flat[Number(select.value)].option);
    register(ctx, () => ({ type: el.type, [key]: selected() }));
    select.addEventListener("change", () => {
      if (fires(ctx)) sendAction(ctx, { ...baseAction(el, ctx), [key]: selected() });
    });
    return select;
  }

  // Multi-selects: removable chips plus a native select to add one more.
  function multiSelect(el, ctx, groups, key, initial) {
    const flat = groups.flatMap((g) => g.items);
    const preset = presetOf(ctx);
    const startValues = preset ? (preset[key] ?? []).map((v) => v?.value ?? v) : initial;
    let chosen = flat.filter((item) => startValues.includes(item.value));
    const chips = h("div", { class: "chips" });
    const adder = h("select", { class: "select", "data-control": "" });
    let addable = []; // the items the adder offers, in its option order
    const value = () => chosen.map((item) => item.option);
    const changed = () => {
      draw();
      if (fires(ctx)) sendAction(ctx, { ...baseAction(el, ctx), [key]: value() });
    };
    const draw = () => {
      chips.replaceChildren(...chosen.map((item) => h("span", { class: "chip" }, item.text,
        h("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${item.text}`, onclick: () => { chosen = chosen.filter((c) => c !== item); changed(); } }, "×"))));
      const rest = groups.map((g) => ({ label: g.label, items: g.items.filter((item) => !chosen.includes(item)) }));
      fillSelect(adder, rest, plainText(el.placeholder) || "Add…", null);
      addable = rest.flatMap((g) => g.items);
    };
    adder.addEventListener("change", () => {
      chosen = [...chosen, addable[Number(adder.value)]];
      changed();
    });
    register(ctx, () => ({ type: el.type, [key]: value() }));
    draw();
    return h("div", { class: "multi-select" }, chips, adder);
  }

  // external_select and multi_external_select: a text field whose dropdown list asks the
  // server for options on focus and, debounced, on each keystroke.
  function comboBox(el, ctx, multi) {
    const preset = presetOf(ctx);
    let selected = multi
      ? [...((preset ? preset.selected_options : el.initial_options) ?? [])]
      : (preset ? preset.selected_option : el.initial_option) ?? null;
    const minLength = el.min_query_length ?? 3;
    const field = h("input", { type: "text", class: "text-input combo-input", role: "combobox", "aria-expanded": "false", "aria-autocomplete": "list", placeholder: plainText(el.placeholder) || "Search…", "data-control": "" });
    const list = h("ul", { class: "combo-list", role: "listbox", hidden: true });
    const chips = multi ? h("div", { class: "chips" }) : null;
    let timer = null;
    let requestSeq = 0;
    let highlighted = -1;

    const state = () => (multi ? { type: el.type, selected_options: selected } : { type: el.type, selected_option: selected });
    const showSelection = () => {
      if (multi) {
        field.value = "";
        chips.replaceChildren(...selected.map((opt) => h("span", { class: "chip" }, plainText(opt.text),
          h("button", { type: "button", class: "chip-remove", "aria-label": `Remove ${plainText(opt.text)}`, onclick: () => { selected = selected.filter((o) => o !== opt); choose(null); } }, "×"))));
      } else {
        field.value = selected ? plainText(selected.text) : "";
      }
    };
    const hide = () => { list.hidden = true; field.setAttribute("aria-expanded", "false"); };
    const choose = (opt) => {
      if (opt && multi && !selected.some((o) => o.value === opt.value)) selected = [...selected, opt];
      else if (opt && !multi) selected = opt;
      hide();
      showSelection();
      if (fires(ctx)) sendAction(ctx, { ...baseAction(el, ctx), ...(multi ? { selected_options: selected } : { selected_option: selected }) });
    };
    const items = () => [...list.querySelectorAll(".combo-option")];
    const highlight = (i) => {
      const all = items();
      highlighted = all.length ? (i + all.length) % all.length : -1;
      all.forEach((item, j) => item.classList.toggle("active", j === highlighted));
      all[highlighted]?.scrollIntoView({ block: "nearest" });
    };
    const showOptions = (reply) => {
      const groups = reply.option_groups
        ? reply.option_groups.map((g) => ({ label: plainText(g.label), options: g.options ?? [] }))
        : [{ label: null, options: reply.options ?? [] }];
      list.replaceChildren();
      for (const group of groups) {
        if (group.label) list.append(h("li", { class: "combo-group", role: "presentation" }, group.label));
        for (const opt of group.options) {
          // mousedown, not click: the field must not blur (and hide the list) first
          list.append(h("li", { class: "combo-option", role: "option", onmousedown: (e) => { e.preventDefault(); choose(opt); } }, plainText(opt.text)));
        }
      }
      if (!list.children.length) list.append(h("li", { class: "combo-empty" }, "No results"));
      list.hidden = false;
      field.setAttribute("aria-expanded", "true");
      highlight(0);
    };
    const query = async (text) => {
      const mine = ++requestSeq;
      const reply = await post("/demo/api/options", {
        view_id: ctx.viewId ?? null, channel: ctx.channel ?? null, ts: ctx.ts ?? null,
        action_id: ctx.actionId, block_id: ctx.blockId, value: text,
      });
      if (mine !== requestSeq || document.activeElement !== field) return; // stale answer
      if (reply.ok === false) toastError(reply.error);
      else showOptions(reply);
    };

    field.addEventListener("focus", () => { field.select(); query(""); });
    field.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const text = field.value;
        if (text === "" || text.length >= minLength) query(text);
      }, OPTIONS_DEBOUNCE_MS);
    });
    field.addEventListener("blur", () => { clearTimeout(timer); requestSeq++; hide(); showSelection(); });
    field.addEventListener("keydown", (e) => {
      if (e.key === "ArrowDown" || e.key === "ArrowUp") {
        e.preventDefault();
        highlight(highlighted + (e.key === "ArrowDown" ? 1 : -1));
      } else if (e.key === "Enter") {
        e.preventDefault();
        items()[highlighted]?.dispatchEvent(new MouseEvent("mousedown", { cancelable: true }));
      } else if (e.key === "Escape" && !list.hidden) {
        e.stopPropagation(); // close the list, not the modal
        hide();
      }
    });
    register(ctx, state);
    showSelection();
    return h("div", { class: "combo" }, chips, field, list);
  }

  // Text-like inputs; `read` turns the field's text into the STATE entry.
  function textField(el, ctx, attrs, read) {
    const preset = presetOf(ctx);
    const common = { class: "text-input", placeholder: plainText(el.placeholder) || null, maxlength: el.max_length, minlength: el.min_length };
    const field = el.multiline ? h("textarea", { ...common, rows: 4 }) : h("input", { ...common, ...attrs });
    field.value = preset ? preset.value ?? "" : el.initial_value ?? "";
    register(ctx, () => ({ type: el.type, ...read(field.value) }));
    if (ctx.inInput && ctx.dispatch) {
      const triggers = el.dispatch_action_config?.trigger_actions_on ?? ["on_enter_pressed"];
      const dispatch = () => sendAction(ctx, { ...baseAction(el, ctx), ...read(field.value) });
      let timer = null;
      if (triggers.includes("on_enter_pressed")) {
        field.addEventListener("keydown", (e) => { if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); dispatch(); } });
      }
      if (triggers.includes("on_character_entered")) {
        field.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(dispatch, OPTIONS_DEBOUNCE_MS); });
      }
    }
    return field;
  }

  // Slack reports an empty text input as null.
  const textValue = (v) => ({ value: v === "" ? null : v });

  // Pickers backed by a native input whose `change` is the action; `read` turns the field's
  // text into the STATE value and `toText` does the reverse.
  function picker(el, ctx, attrs, key, initial, read, toText = (v) => v ?? "") {
    const preset = presetOf(ctx);
    const field = h("input", { class: "text-input picker", ...attrs });
    field.value = toText(preset ? preset[key] : initial);
    const value = () => read(field.value);
    register(ctx, () => ({ type: el.type, [key]: value() }));
    field.addEventListener("change", () => {
      if (fires(ctx)) sendAction(ctx, { ...baseAction(el, ctx), [key]: value() });
    });
    return field;
  }

  const orNull = (v) => (v === "" ? null : v);

  function toLocalDateTime(seconds) {
    if (!seconds) return "";
    const d = new Date(seconds * 1000);
    return `${DATE_TOKENS.date_num(d)}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function choiceList(el, ctx, multiple) {
    const preset = presetOf(ctx);
    const initial = preset ? (multiple ? preset.selected_options : [preset.selected_option]) : (multiple ? el.initial_options : [el.initial_option]);
    const initialValues = new Set((initial ?? []).filter(Boolean).map((o) => o.value));
    const name = `choice-${++fieldCounter}`;
    const rows = (el.options ?? []).map((opt) => {
      const input = h("input", { type: multiple ? "checkbox" : "radio", name, value: opt.value, checked: initialValues.has(opt.value) });
      const text = h("span", { class: "choice-text" }, textObject(opt.text, "span"),
        opt.description ? h("span", { class: "choice-description" }, textObject(opt.description, "span")) : null);
      return { opt, input, node: h("label", { class: "choice" }, input, text) };
    });
    const selected = () => rows.filter((r) => r.input.checked).map((r) => r.opt);
    const entry = () => (multiple ? { selected_options: selected() } : { selected_option: selected()[0] ?? null });
    register(ctx, () => ({ type: el.type, ...entry() }));
    const group = h("div", { class: "choices", role: multiple ? "group" : "radiogroup" }, rows.map((r) => r.node));
    group.addEventListener("change", () => {
      if (fires(ctx)) sendAction(ctx, { ...baseAction(el, ctx), ...entry() });
    });
    return group;
  }

  // users_select: a text field of user ids, with the known users suggested.
  function userField(el, ctx, multi) {
    const listId = `users-${++fieldCounter}`;
    const known = [ui.state?.user, ui.state?.bot && { id: ui.state.bot.user_id, name: ui.state.bot.name }].filter(Boolean);
    const attrs = { type: "text", list: listId, placeholder: plainText(el.placeholder) || "User ID, like U0DEMO", "data-control": "" };
    const field = multi
      ? picker(el, ctx, attrs, "selected_users", el.initial_users, (v) => v.split(/[\s,]+/).filter(Boolean), (v) => (v ?? []).join(", "))
      : picker(el, ctx, attrs, "selected_user", el.initial_user, orNull);
    const datalist = h("datalist", { id: listId }, known.map((u) => h("option", { value: u.id }, u.name)));
    return h("span", { class: "user-field" }, field, datalist);
  }

  const ELEMENTS = {
    button,
    overflow,
    image: (el) => image(el, "accessory-image"),
    static_select: (el, ctx) => singleSelect(el, ctx, optionGroups(el), "selected_option", el.initial_option?.value),
    multi_static_select: (el, ctx) => multiSelect(el, ctx, optionGroups(el), "selected_options", (el.initial_options ?? []).map((o) => o.value)),
    external_select: (el, ctx) => comboBox(el, ctx, false),
    multi_external_select: (el, ctx) => comboBox(el, ctx, true),
    conversations_select: (el, ctx) => singleSelect(el, ctx, channelGroups(), "selected_conversation", el.initial_conversation ?? (el.default_to_current_conversation ? ctx.channel : null)),
    channels_select: (el, ctx) => singleSelect(el, ctx, channelGroups(), "selected_channel", el.initial_channel),
    multi_conversations_select: (el, ctx) => multiSelect(el, ctx, channelGroups(), "selected_conversations", el.initial_conversations ?? []),
    multi_channels_select: (el, ctx) => multiSelect(el, ctx, channelGroups(), "selected_channels", el.initial_channels ?? []),
    users_select: (el, ctx) => userField(el, ctx, false),
    multi_users_select: (el, ctx) => userField(el, ctx, true),
    datepicker: (el, ctx) => picker(el, ctx, { type: "date" }, "selected_date", el.initial_date, orNull),
    timepicker: (el, ctx) => picker(el, ctx, { type: "time" }, "selected_time", el.initial_time, orNull),
    datetimepicker: (el, ctx) => picker(el, ctx, { type: "datetime-local" }, "selected_date_time", el.initial_date_time,
      (v) => (v ? Math.round(new Date(v).getTime() / 1000) : null), toLocalDateTime),
    checkboxes: (el, ctx) => choiceList(el, ctx, true),
    radio_buttons: (el, ctx) => choiceList(el, ctx, false),
    plain_text_input: (el, ctx) => textField(el, ctx, { type: "text" }, textValue),
    email_text_input: (el, ctx) => textField(el, ctx, { type: "email" }, textValue),
    url_text_input: (el, ctx) => textField(el, ctx, { type: "url" }, textValue),
    number_input: (el, ctx) => textField(el, ctx, {
      type: "number", step: el.is_decimal_allowed ? "any" : "1", min: el.min_value, max: el.max_value,
    }, textValue),
  };

  // ---------------------------------------------------------------- popups

  let openMenuEl = null;

  function closeMenu() {
    openMenuEl?.remove();
    openMenuEl = null;
  }

  function openMenu(anchor, items) {
    const reopening = openMenuEl?.anchor === anchor;
    closeMenu();
    if (reopening) return; // a second click on the ⋮ closes its menu
    const menu = h("div", { class: "menu", role: "menu" }, items.map((item) =>
      h("button", { type: "button", class: "menu-item", role: "menuitem", onclick: () => { closeMenu(); item.run(); } }, item.label)));
    menu.anchor = anchor;
    document.body.append(menu);
    const r = anchor.getBoundingClientRect();
    const top = r.bottom + 4 + menu.offsetHeight > innerHeight ? r.top - 4 - menu.offsetHeight : r.bottom + 4;
    menu.style.top = `${Math.max(4, top)}px`;
    menu.style.left = `${Math.max(4, Math.min(r.left, innerWidth - menu.offsetWidth - 8))}px`;
    openMenuEl = menu;
  }

  function showConfirm(confirm) {
    return new Promise((resolve) => {
      const done = (ok) => { overlay.remove(); resolve(ok); };
      const accept = h("button", { type: "button", class: `btn large ${confirm.style === "danger" ? "danger-solid" : "primary"}`, onclick: () => done(true) }, plainText(confirm.confirm) || "Yes");
      const dialog = h("div", { class: "dialog confirm", role: "alertdialog", "aria-modal": "true", "aria-label": plainText(confirm.title) || "Are you sure?" },
        h("div", { class: "dialog-header" }, h("h2", { class: "dialog-title" }, plainText(confirm.title) || "Are you sure?")),
        h("div", { class: "dialog-body" }, textObject(confirm.text)),
        h("div", { class: "dialog-footer" },
          h("button", { type: "button", class: "btn large", onclick: () => done(false) }, plainText(confirm.deny) || "Cancel"), accept));
      const overlay = h("div", { class: "overlay confirm-overlay", onkeydown: (e) => { if (e.key === "Escape") { e.stopPropagation(); done(false); } } }, dialog);
      document.body.append(overlay);
      accept.focus();
    });
  }

  // ---------------------------------------------------------------- toasts

  function toastError(message) {
    const id = `local-${Date.now()}-${Math.random()}`;
    ui.localToasts.push({ id, text: message || "Something went wrong.", error: true });
    setTimeout(() => dismiss(id), 8000);
    renderToasts();
  }

  function dismiss(id) {
    ui.dismissed.add(id);
    ui.localToasts = ui.localToasts.filter((t) => t.id !== id);
    renderToasts();
  }

  function renderToasts() {
    const notices = (ui.state?.notices ?? []).filter((n) => !ui.dismissed.has(n.id));
    const all = [...notices, ...ui.localToasts];
    const key = all.map((t) => t.id).join(",");
    if (key === ui.noticeKey) return;
    ui.noticeKey = key;
    $("toasts").replaceChildren(...all.map((t) => h("div", { class: `toast${t.error ? " error" : ""}`, role: "status", "data-notice-id": t.id },
      h("span", { class: "toast-text" }, String(t.text ?? "")),
      h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss", onclick: () => dismiss(t.id) }, "×"))));
  }

  // ---------------------------------------------------------------- messages

  const tsNumber = (ts) => Number.parseFloat(ts) || 0;

  function clockTime(ts) {
    const d = new Date(tsNumber(ts) * 1000);
    return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }

  function avatar(msg) {
    if (msg.is_bot) return h("div", { class: "avatar bot", "aria-hidden": "true" }, "LB");
    return h("div", { class: "avatar user", "aria-hidden": "true" }, String(msg.author ?? "?").charAt(0).toUpperCase());
  }

  function renderMessage(msg, channelId, isReply) {
    const ctx = { surface: "message", channel: channelId, ts: msg.ts, form: null };
    const header = h("div", { class: "message-header" },
      h("span", { class: "author" }, msg.author ?? "unknown"),
      msg.is_bot ? h("span", { class: "app-badge" }, "APP") : null,
      h("time", { class: "message-time", title: new Date(tsNumber(msg.ts) * 1000).toLocaleString() }, clockTime(msg.ts)),
      msg.edited ? h("span", { class: "edited" }, "(edited)") : null);
    const body = h("div", { class: "message-body" }, msg.blocks?.length ? renderBlocks(msg.blocks, ctx) : mrkdwn(msg.text));
    const el = h("div", { class: `message${isReply ? " reply" : ""}${msg.ephemeral ? " ephemeral" : ""}`, "data-ts": msg.ts },
      msg.ephemeral ? h("div", { class: "ephemeral-note" }, svgIcon(EYE_PATH), "Only visible to you") : null,
      h("div", { class: "message-row" }, avatar(msg), h("div", { class: "message-content" }, header, body)));
    const replies = msg.replies ?? [];
    if (!isReply && replies.length) {
      // Threads stay open so a new reply shows up without a click.
      el.append(h("div", { class: "thread" },
        h("div", { class: "thread-label" }, `${replies.length} ${replies.length === 1 ? "reply" : "replies"}`),
        replies.map((r) => renderMessage(r, channelId, true))));
    }
    return el;
  }

  function newestTs(channel) {
    let newest = 0;
    for (const m of channel.messages ?? []) {
      newest = Math.max(newest, tsNumber(m.ts), ...(m.replies ?? []).map((r) => tsNumber(r.ts)));
    }
    return newest;
  }

  // A channel gets an unread dot when its newest ts moves past what the user has seen.
  function trackUnread(state) {
    for (const channel of state.channels ?? []) {
      const newest = newestTs(channel);
      const showing = ui.view === "channel" && channel.id === ui.channelId;
      if (!ui.seen.has(channel.id) || showing) ui.seen.set(channel.id, newest);
      else if (newest > ui.seen.get(channel.id)) ui.unread.add(channel.id);
    }
  }

  function renderChannel(channel) {
    $("main-header").replaceChildren(h("h1", { class: "channel-title" }, `#${channel.name}`));
    $("composer").placeholder = `Message #${channel.name} — try /lead help`;
    const box = $("messages");
    if (ui.renderedChannel !== channel.id) {
      box.replaceChildren();
      ui.messageCache = new Map();
      ui.renderedChannel = channel.id;
      ui.stick = true;
    }
    const next = new Map();
    const nodes = (channel.messages ?? []).map((msg) => {
      const sig = JSON.stringify(msg);
      const cached = ui.messageCache.get(msg.ts);
      const el = cached?.sig === sig ? cached.el : renderMessage(msg, channel.id, false);
      next.set(msg.ts, { sig, el });
      return el;
    });
    ui.messageCache = next;
    if (ui.intro?.channel !== channel.id) ui.intro = channelIntro(channel);
    syncChildren(box, [ui.intro, ...nodes]);
    keepBottom();
  }

  function channelIntro(channel) {
    const el = h("div", { class: "channel-intro" }, h("div", { class: "intro-title" }, `#${channel.name}`),
      h("div", { class: "intro-text" }, `This is the very beginning of the #${channel.name} channel. Type `, h("code", {}, "/lead help"), " below to start."));
    el.channel = channel.id;
    return el;
  }

  function keepBottom() {
    const box = $("messages");
    if (ui.stick && !box.hidden) box.scrollTop = box.scrollHeight;
  }

  // ---------------------------------------------------------------- views (modal, home)

  // Renders a view's blocks into a fresh form; what was typed in the view's previous
  // rendering (`previousForm`, if any) carries over, as Slack does across views.update.
  function viewContent(view, previousForm) {
    const form = newForm(previousForm ? collect(previousForm) : null);
    const ctx = { surface: "view", viewId: view.id, form };
    return { form, blocks: renderBlocks(view.blocks, ctx) };
  }

  function renderModal(state) {
    const top = state.modals?.at(-1) ?? null;
    const key = top ? `${top.id}:${top.hash}` : null;
    if (key === ui.modal?.key || (!top && !ui.modal)) return;
    const root = $("modal-root");
    const previous = ui.modal;
    // Forget the forms of views that left the stack; keep those under the top one, so
    // their typed text is still there when the top modal is closed.
    const stackIds = new Set((state.modals ?? []).map((m) => m.id));
    for (const id of ui.modalForms.keys()) if (!stackIds.has(id)) ui.modalForms.delete(id);
    const oldScroll = root.querySelector(".dialog-body")?.scrollTop ?? 0;
    root.replaceChildren();
    ui.modal = null;
    // As in Slack, a modal blocks the page behind it (for the mouse and for screen readers).
    $("app").inert = Boolean(top);
    $("app").toggleAttribute("aria-hidden", Boolean(top));
    if (!top) return;

    const { form, blocks } = viewContent(top, ui.modalForms.get(top.id));
    ui.modalForms.set(top.id, form);
    const title = plainText(top.title) || "App";
    const errorLine = h("div", { class: "dialog-error", role: "alert", hidden: true });
    const close = () => post("/demo/api/close", { view_id: top.id }).then(poll);
    const submit = top.submit
      ? h("button", { type: "button", class: "btn large primary", id: "modal-submit", onclick: () => submitModal(top, form, submit, errorLine) }, plainText(top.submit))
      : null;
    const body = h("div", { class: "dialog-body" }, blocks);
    const dialog = h("div", { class: "dialog", role: "dialog", "aria-modal": "true", "aria-label": title, "data-view-id": top.id },
      h("div", { class: "dialog-header" },
        h("span", { class: "app-icon large", "aria-hidden": "true" }, "LB"),
        h("h2", { class: "dialog-title" }, title),
        h("button", { type: "button", class: "dialog-x", "aria-label": "Close", onclick: close }, "×")),
      body,
      h("div", { class: "dialog-footer" }, errorLine,
        h("button", { type: "button", class: "btn large", id: "modal-close", onclick: close }, plainText(top.close) || "Cancel"),
        submit));
    root.append(h("div", { class: "overlay" }, dialog));
    ui.modal = { key, id: top.id, close };
    if (previous?.id === top.id) body.scrollTop = oldScroll;
    else dialog.querySelector("input.text-input:not(.combo-input), textarea")?.focus(); // not a combo: its list would cover the form
  }

  async function submitModal(view, form, submitButton, errorLine) {
    submitButton.disabled = true;
    errorLine.hidden = true;
    for (const slot of form.errors.values()) {
      slot.hidden = true;
      slot.parentElement.classList.remove("has-error");
    }
    try {
      const reply = await post("/demo/api/submit", { view_id: view.id, values: collect(form) });
      if (!reply.ok) showError(errorLine, reply.error);
      for (const [blockId, message] of Object.entries(reply.errors ?? {})) {
        const slot = form.errors.get(blockId);
        if (!slot) { showError(errorLine, message); continue; }
        slot.textContent = message;
        slot.hidden = false;
        slot.parentElement.classList.add("has-error");
      }
    } finally {
      submitButton.disabled = false;
      poll();
    }
  }

  function showError(node, message) {
    node.textContent = message || "Something went wrong.";
    node.hidden = false;
  }

  function renderHome(state) {
    $("main-header").replaceChildren(h("h1", { class: "home-title" }, h("span", { class: "app-icon large", "aria-hidden": "true" }, "LB"), state.bot?.name ?? "Lead Bot"));
    document.querySelectorAll(".home-tab").forEach((tab) => tab.classList.toggle("selected", tab.dataset.tab === ui.homeTab));
    const pane = $("home");
    const view = state.home;
    const key = ui.homeTab === "about" ? "about" : view ? `${view.id}:${view.hash}` : "loading";
    if (ui.home?.key === key) return;
    const previous = ui.home;
    if (key === "about") {
      pane.replaceChildren(h("div", { class: "about" },
        h("p", {}, "Lead Bot looks up NLPearl leads, shows their calls and answers, and follows campaigns in channels."),
        h("p", { class: "muted" }, "This console is a local demo: the workspace, the channels and the NLPearl campaign are simulated.")));
      ui.home = { key };
    } else if (!view) {
      pane.replaceChildren(h("div", { class: "loading", "aria-busy": "true" }, "Loading…"));
      ui.home = { key };
    } else {
      const scroll = pane.scrollTop;
      const { form, blocks } = viewContent(view, previous?.id === view.id ? previous.form : null);
      pane.replaceChildren(h("div", { class: "home-view", "data-view-id": view.id }, blocks));
      if (previous?.id === view.id) pane.scrollTop = scroll;
      ui.home = { key, id: view.id, form };
    }
  }

  // ---------------------------------------------------------------- sandbox, sidebar

  function renderSandbox(sandbox) {
    const bar = $("sandbox");
    const key = JSON.stringify(sandbox ?? null);
    if (key === ui.sandboxKey) return;
    ui.sandboxKey = key;
    bar.hidden = !sandbox;
    if (!sandbox) return;
    const counts = Object.entries(sandbox.counts ?? {});
    bar.replaceChildren(
      h("span", { class: "sandbox-tag" }, "NLPearl sandbox"),
      h("span", { class: "sandbox-name", title: `Campaign ${sandbox.campaign_id ?? ""}` }, sandbox.campaign_name ?? "campaign"),
      h("span", { class: `sandbox-state ${sandbox.paused ? "paused" : "running"}`, id: "sandbox-state" }, sandbox.paused ? "paused" : "running"),
      h("span", { class: "sandbox-counts" }, counts.length
        ? counts.map(([name, n]) => h("span", { class: "count" }, `${name} `, h("b", {}, String(n))))
        : h("span", { class: "muted" }, "no leads yet")),
      h("span", { class: "sandbox-controls" },
        h("button", { type: "button", class: "btn small", id: "sandbox-pause", onclick: () => sandboxPost({ paused: !sandbox.paused }) }, sandbox.paused ? "Resume" : "Pause"),
        h("span", { class: "speed-group", role: "group", "aria-label": `Speed ${sandbox.speed}×` }, [1, 5, 20].map((speed) =>
          h("button", { type: "button", class: `btn small speed${sandbox.speed === speed ? " selected" : ""}`, "data-speed": speed, "aria-pressed": String(sandbox.speed === speed), onclick: () => sandboxPost({ speed }) }, `${speed}×`)))),
      sandbox.webhooks?.length ? h("span", { class: "muted sandbox-hooks", title: sandbox.webhooks.join("\n") }, `${sandbox.webhooks.length} webhook${sandbox.webhooks.length === 1 ? "" : "s"}`) : null);
  }

  async function sandboxPost(body) {
    const reply = await post("/demo/api/sandbox", body);
    if (!reply.ok) toastError(reply.error);
    poll();
  }

  function renderSidebar(state) {
    $("workspace-name").textContent = state.workspace?.name ?? "Workspace";
    $("channel-list").replaceChildren(...(state.channels ?? []).map((c) => {
      const selected = ui.view === "channel" && c.id === ui.channelId;
      const unread = ui.unread.has(c.id);
      return h("li", {}, h("button", {
        type: "button", class: `sidebar-item${selected ? " selected" : ""}${unread ? " unread" : ""}`,
        "data-channel-id": c.id, "aria-current": selected ? "page" : null, onclick: () => selectChannel(c.id),
      }, `#${c.name}`, unread ? h("span", { class: "unread-dot", title: "New messages" }) : null));
    }));
    $("open-home").classList.toggle("selected", ui.view === "home");
  }

  // ---------------------------------------------------------------- navigation

  function selectChannel(id) {
    closeMenu();
    ui.view = "channel";
    ui.channelId = id;
    ui.stick = true; // a hidden list loses its scroll position
    ui.unread.delete(id);
    render();
    $("composer").focus();
  }

  function openHome() {
    closeMenu();
    ui.view = "home";
    ui.homeTab = "home";
    render();
    post("/demo/api/home", {}).then((reply) => {
      if (!reply.ok) toastError(reply.error);
      poll();
    });
  }

  function render() {
    const state = ui.state;
    if (!state) return;
    const channels = state.channels ?? [];
    if (!channels.some((c) => c.id === ui.channelId)) ui.channelId = channels[0]?.id ?? null;
    trackUnread(state);
    renderSidebar(state);
    renderSandbox(state.sandbox);
    const inHome = ui.view === "home";
    const channel = channels.find((c) => c.id === ui.channelId);
    $("home").hidden = !inHome;
    $("home-tabs").hidden = !inHome;
    $("messages").hidden = inHome;
    $("composer-form").hidden = inHome || !channel;
    if (inHome) renderHome(state);
    else if (channel) renderChannel(channel);
    else $("main-header").replaceChildren(h("h1", {}, "No channels"));
    renderModal(state);
    renderToasts();
  }

  // ---------------------------------------------------------------- server

  async function post(path, body) {
    try {
      const res = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
      const data = await res.json().catch(() => null);
      return data ?? { ok: false, error: `The console answered HTTP ${res.status}.` };
    } catch (err) {
      return { ok: false, error: "The console server did not answer. Is `lead-bot demo` still running?" };
    }
  }

  // One poll at a time; a poll asked for during another runs right after it.
  async function poll() {
    if (ui.polling) {
      ui.pollAgain = true;
      return;
    }
    ui.polling = true;
    clearTimeout(ui.pollTimer);
    try {
      // Only the version comes back while nothing has changed.
      const since = encodeURIComponent(ui.version ?? "");
      const res = await fetch(`/demo/api/state?since=${since}`, { cache: "no-store" });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      const state = await res.json();
      setConnected(true);
      if (state.version !== ui.version) {
        ui.version = state.version;
        ui.state = state;
        render();
      }
    } catch (err) {
      setConnected(false);
    } finally {
      ui.polling = false;
      ui.pollTimer = setTimeout(poll, ui.pollAgain ? 0 : POLL_MS);
      ui.pollAgain = false;
    }
  }

  function setConnected(ok) {
    const note = $("connection");
    note.hidden = ok;
    note.textContent = ok ? "" : "· Console server unreachable, retrying…";
  }

  // ---------------------------------------------------------------- composer

  async function sendCommand() {
    const composer = $("composer");
    const text = composer.value.trim();
    const errorBox = $("composer-error");
    if (!text || !ui.channelId) return;
    $("send").disabled = true;
    try {
      const reply = await post("/demo/api/command", { channel: ui.channelId, text });
      if (reply.ok) {
        composer.value = "";
        errorBox.hidden = true;
        ui.stick = true;
        growComposer();
      } else {
        showError(errorBox, reply.error);
      }
    } finally {
      $("send").disabled = false;
      poll();
    }
  }

  function growComposer() {
    const composer = $("composer");
    composer.style.height = "auto";
    composer.style.height = `${Math.min(composer.scrollHeight, 200)}px`;
  }

  function wireUp() {
    $("composer-form").addEventListener("submit", (e) => { e.preventDefault(); sendCommand(); });
    $("composer").addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        sendCommand();
      }
    });
    $("composer").addEventListener("input", () => { $("composer-error").hidden = true; growComposer(); });
    $("open-home").addEventListener("click", openHome);
    document.querySelectorAll(".home-tab").forEach((tab) => tab.addEventListener("click", () => {
      ui.homeTab = tab.dataset.tab;
      render();
    }));
    const box = $("messages");
    box.addEventListener("scroll", () => { ui.stick = box.scrollHeight - box.scrollTop - box.clientHeight < 40; });
    document.addEventListener("click", (e) => { if (openMenuEl && !openMenuEl.contains(e.target)) closeMenu(); });
    document.addEventListener("scroll", closeMenu, true);
    document.addEventListener("keydown", (e) => {
      if (e.key !== "Escape") return;
      if (openMenuEl) closeMenu();
      else if (ui.modal && !document.querySelector(".confirm-overlay")) ui.modal.close();
    });
  }

  wireUp();
  poll();
})();
