/// The dashboard's page: plain HTML, CSS and JavaScript, kept in the binary so that `porter
/// dashboard` needs no files beside it and nothing to build. The script draws every view from
/// the JSON routes of `DashboardAPI`, puts all data in with `textContent` (never as markup),
/// and moves progress bars from `/api/events`.
enum DashboardAssets {
    static let html = #"""
        <!doctype html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>Porter</title>
        <link rel="stylesheet" href="/app.css">
        </head>
        <body>
        <header>
          <a class="brand" href="#/queues">Porter</a>
          <nav>
            <a href="#/queues" data-nav="queues">Queues</a>
            <a href="#/jobs" data-nav="jobs">Jobs</a>
            <a href="#/workers" data-nav="workers">Workers</a>
            <a href="#/schedule" data-nav="schedule">Schedule</a>
          </nav>
          <span id="mode"></span>
          <span id="live" title="live updates: connecting">live</span>
        </header>
        <div id="notice" role="status" hidden></div>
        <main id="view"><p class="muted">Loading…</p></main>
        <script src="/app.js"></script>
        </body>
        </html>
        """#

    static let style = #"""
        :root { --ink: #1d2330; --muted: #6b7385; --line: #e3e6ee; --bg: #f6f7fb; --card: #fff; --accent: #3558d6;
                --ok: #1f8a4c; --bad: #c0392b; --warn: #b7791f; --idle: #7a8194; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink); background: var(--bg); }
        header { display: flex; align-items: center; gap: 24px; padding: 10px 24px; background: #1d2330; color: #fff; }
        header a { color: #cfd5e6; text-decoration: none; }
        header a.brand { color: #fff; font-weight: 700; font-size: 17px; letter-spacing: .3px; }
        nav { display: flex; gap: 4px; flex: 1; }
        nav a { padding: 5px 12px; border-radius: 6px; }
        nav a.active, nav a:hover { background: #343c52; color: #fff; }
        #mode { font-size: 12px; padding: 2px 8px; border-radius: 10px; background: #4a3a12; color: #ffd98a; }
        #mode:empty { display: none; }
        #live { font-size: 12px; color: #8a91a6; }
        #live::before { content: "●"; margin-right: 5px; }
        #live.on { color: #7ee2a8; }
        main { padding: 20px 24px 40px; max-width: 1400px; }
        h2 { font-size: 18px; margin: 4px 0 14px; }
        h3 { font-size: 14px; margin: 22px 0 8px; color: var(--muted); text-transform: uppercase; letter-spacing: .5px; }
        .card { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: auto; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); white-space: nowrap; vertical-align: middle; }
        th { font-size: 12px; font-weight: 600; color: var(--muted); background: #fafbfd; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        tr:last-child td { border-bottom: none; }
        td.wrap { white-space: normal; max-width: 420px; overflow-wrap: anywhere; }
        a { color: var(--accent); }
        .muted { color: var(--muted); }
        .summary { display: flex; gap: 12px; margin-bottom: 16px; flex-wrap: wrap; }
        .tile { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 10px 16px; min-width: 130px; }
        .tile b { display: block; font-size: 20px; }
        .tile span { color: var(--muted); font-size: 12px; }
        .badge { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px; font-weight: 600; background: #eef0f5; color: var(--idle); }
        .badge.finished { background: #e3f5ea; color: var(--ok); }
        .badge.failed, .badge.dead { background: #fbe7e5; color: var(--bad); }
        .badge.started, .badge.alive { background: #e6ecfd; color: var(--accent); }
        .badge.scheduled, .badge.deferred, .badge.paused { background: #fcf1dc; color: var(--warn); }
        .badge.canceled { background: #eceef3; color: #555c6e; }
        button { font: inherit; font-size: 12px; padding: 3px 10px; border-radius: 6px; border: 1px solid #c7cddc; background: #fff; color: var(--ink); cursor: pointer; }
        button:hover { border-color: var(--accent); color: var(--accent); }
        button.danger:hover { border-color: var(--bad); color: var(--bad); }
        .actions { display: flex; gap: 6px; }
        .bar { position: relative; width: 220px; height: 18px; border-radius: 9px; background: #e8ebf3; overflow: hidden; }
        .bar .fill { position: absolute; inset: 0 auto 0 0; width: 0; background: linear-gradient(90deg, #3558d6, #5b7cf0); transition: width .25s ease; }
        .bar .label { position: relative; padding: 0 8px; font-size: 11px; line-height: 18px; color: #1d2330; white-space: nowrap; }
        .bar.wide { width: 100%; max-width: 520px; }
        form.filters { display: flex; gap: 8px; align-items: center; margin-bottom: 12px; flex-wrap: wrap; }
        input, select { font: inherit; font-size: 13px; padding: 4px 8px; border: 1px solid #c7cddc; border-radius: 6px; background: #fff; }
        pre { margin: 0; padding: 10px 12px; background: #f3f5f9; border-radius: 6px; overflow: auto; max-height: 360px; font-size: 12px; }
        dl { display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; margin: 0; padding: 14px 16px; }
        dt { color: var(--muted); }
        dd { margin: 0; }
        .pager { display: flex; gap: 8px; margin-top: 10px; }
        #notice { margin: 12px 24px 0; padding: 8px 14px; border-radius: 6px; background: #e3f5ea; color: var(--ok); }
        #notice.bad { background: #fbe7e5; color: var(--bad); }
        .empty { padding: 14px 16px; color: var(--muted); }
        """#

    static let script = #"""
        'use strict';
        // Porter's dashboard. Every view is drawn from the JSON of /api/...; data goes in as
        // text, never as markup. /api/events moves progress bars and says when to reload.
        window.__porterPageId = Math.random().toString(36).slice(2);
        const state = { readOnly: true, progress: new Map(), rendering: 0 };
        const view = document.getElementById('view');

        function h(tag, attrs, ...children) {
          const e = document.createElement(tag);
          for (const [k, v] of Object.entries(attrs || {})) {
            if (v == null || v === false) continue;
            if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
            else if (k === 'class') e.className = v;
            else e.setAttribute(k, v === true ? '' : String(v));
          }
          for (const c of children.flat()) {
            if (c == null || c === false) continue;
            e.append(c instanceof Node ? c : String(c));
          }
          return e;
        }

        async function api(path, options) {
          const response = await fetch(path, Object.assign({ credentials: 'same-origin' }, options));
          const text = await response.text();
          let body;
          try { body = JSON.parse(text); } catch (_) { body = { error: text }; }
          if (!response.ok) throw new Error((body && body.error) || response.statusText);
          return body;
        }

        function notice(text, bad) {
          const e = document.getElementById('notice');
          e.textContent = text;
          e.className = bad ? 'bad' : '';
          e.hidden = false;
          clearTimeout(notice.timer);
          notice.timer = setTimeout(() => { e.hidden = true; }, 6000);
        }

        async function act(path, confirmText) {
          if (confirmText && !window.confirm(confirmText)) return;
          try {
            const answer = await api(path, { method: 'POST', headers: { 'X-Porter-Dashboard': '1' } });
            notice(answer.message || 'done');
          } catch (error) {
            notice(error.message, true);
          }
          render();
        }

        function seconds(value) {
          if (value == null) return '–';
          if (value === 0) return '0';
          if (value < 0.001) return Math.round(value * 1e6) + ' µs';
          if (value < 1) return Math.round(value * 1000) + ' ms';
          if (value < 60) return value.toFixed(1) + ' s';
          if (value < 3600) return Math.floor(value / 60) + ' m ' + Math.floor(value % 60) + ' s';
          return Math.floor(value / 3600) + ' h ' + Math.floor(value % 3600 / 60) + ' m';
        }

        function when(iso) {
          if (!iso) return '–';
          const delta = (Date.now() - new Date(iso).getTime()) / 1000;
          const text = new Date(iso).toLocaleString();
          if (delta >= 0) return text + ' (' + seconds(delta) + ' ago)';
          return text + ' (in ' + seconds(-delta) + ')';
        }

        function badge(word) { return h('span', { class: 'badge ' + word }, word); }
        function jobLink(id) { return h('a', { href: '#/jobs/' + id }, '#' + id); }
        function card(...children) { return h('div', { class: 'card' }, ...children); }
        function table(headers, rows, empty) {
          if (!rows.length) return h('div', { class: 'empty' }, empty || 'Nothing here.');
          return h('table', {},
            h('thead', {}, h('tr', {}, headers.map(([label, cls]) => h('th', { class: cls }, label)))),
            h('tbody', {}, rows));
        }

        // Progress bars: every bar of a job moves when its progress arrives.
        function bar(job, progress, wide) {
          const e = h('div', { class: 'bar' + (wide ? ' wide' : ''), 'data-job': job },
            h('div', { class: 'fill' }), h('span', { class: 'label' }));
          paint(e, state.progress.get(job) || progress);
          return e;
        }
        function paint(e, progress) {
          const percent = progress ? Math.max(0, Math.min(100, Number(progress.percent) || 0)) : 0;
          e.querySelector('.fill').style.width = percent + '%';
          e.dataset.percent = String(percent);
          const parts = [progress ? Math.round(percent) + ' %' : 'running'];
          if (progress && progress.title) parts.push(progress.title);
          if (progress && progress.description) parts.push(progress.description);
          e.querySelector('.label').textContent = parts.join(' · ');
        }
        function onProgress(progress) {
          state.progress.set(progress.job, progress);
          for (const e of document.querySelectorAll('.bar[data-job="' + progress.job + '"]')) paint(e, progress);
        }

        // MARK: Views

        async function queuesView() {
          const [stats, running] = await Promise.all([api('/api/stats'), api('/api/jobs?status=started&limit=50')]);
          const rows = stats.queues.map(q => h('tr', { 'data-queue': q.queue },
            h('td', {}, h('a', { href: '#/jobs?queue=' + encodeURIComponent(q.queue) }, q.queue)),
            h('td', { class: 'num', 'data-field': 'queued' }, q.queued),
            h('td', { class: 'num' }, q.scheduled),
            h('td', { class: 'num' }, q.deferred),
            h('td', { class: 'num' }, q.started),
            h('td', { class: 'num' }, q.failed_last_hour ? h('a', { href: '#/jobs?status=failed&queue=' + encodeURIComponent(q.queue) }, q.failed_last_hour) : 0),
            h('td', { class: 'num' }, q.failed_last_day),
            h('td', { class: 'num' }, q.finished_per_minute),
            h('td', { class: 'num', 'data-field': 'lag' }, seconds(q.lag_seconds)),
            h('td', { class: 'num' }, seconds(q.wait_p50_seconds) + ' / ' + seconds(q.wait_p95_seconds)),
            h('td', { class: 'num' }, seconds(q.run_p50_seconds) + ' / ' + seconds(q.run_p95_seconds)),
            h('td', { class: 'num' }, q.slots_busy + ' / ' + q.slots),
            h('td', { 'data-field': 'state' }, q.paused ? badge('paused') : h('span', { class: 'muted' }, 'running')),
            state.readOnly ? null : h('td', {}, h('div', { class: 'actions' },
              q.paused
                ? h('button', { 'data-action': 'resume', onclick: () => act('/api/queues/resume?queue=' + encodeURIComponent(q.queue)) }, 'Resume')
                : h('button', { 'data-action': 'pause', onclick: () => act('/api/queues/pause?queue=' + encodeURIComponent(q.queue)) }, 'Pause'),
              q.failed_last_day > 0
                ? h('button', { 'data-action': 'retry-failed', onclick: () => act('/api/retry-failed?queue=' + encodeURIComponent(q.queue), 'Retry every failed job of ' + q.queue + '?') }, 'Retry failed')
                : null))));
          const headers = [['Queue'], ['Queued', 'num'], ['Scheduled', 'num'], ['Deferred', 'num'], ['Started', 'num'],
            ['Failed 1 h', 'num'], ['Failed 1 d', 'num'], ['Finished / min', 'num'], ['Lag', 'num'],
            ['Wait p50 / p95', 'num'], ['Run p50 / p95', 'num'], ['Slots', 'num'], ['State']];
          if (!state.readOnly) headers.push(['']);
          // Flow-control limits: how many run against each, and how many wait because it is full.
          const limitRows = (stats.limits || []).map(l => h('tr', { 'data-limit': l.queue + ' ' + (l.limit_key || l.scope) },
            h('td', {}, h('a', { href: '#/jobs?queue=' + encodeURIComponent(l.queue) }, l.queue)),
            h('td', {}, l.limit_key ? 'key ' + l.limit_key : l.scope),
            h('td', { class: 'num' }, l.max_running == null ? '-' : l.max_running),
            h('td', { class: 'num' }, l.max_starts == null ? '-' : l.max_starts + ' per ' + seconds(l.per_seconds)),
            h('td', { class: 'num', 'data-field': 'running' }, l.running),
            h('td', { class: 'num', 'data-field': 'waiting' }, l.waiting),
            h('td', {}, l.fair ? 'fair' : '')));
          const runningRows = running.jobs.map(job => h('tr', { 'data-job': job.id },
            h('td', {}, jobLink(job.id)), h('td', {}, job.queue), h('td', {}, job.method),
            h('td', {}, bar(job.id, job.progress)), h('td', { class: 'muted' }, when(job.started_at))));
          return [
            h('h2', {}, 'Queues'),
            h('div', { class: 'summary' },
              h('div', { class: 'tile' }, h('b', { 'data-field': 'workers' }, stats.workers), h('span', {}, 'live workers')),
              h('div', { class: 'tile' }, h('b', {}, stats.slots_busy + ' / ' + stats.slots), h('span', {}, 'slots busy')),
              h('div', { class: 'tile' }, h('b', {}, stats.queues.reduce((n, q) => n + q.queued, 0)), h('span', {}, 'jobs waiting')),
              h('div', { class: 'tile' }, h('b', {}, stats.queues.reduce((n, q) => n + q.failed_last_hour, 0)), h('span', {}, 'failed in the last hour'))),
            card(table(headers, rows, 'No queue has jobs or workers yet.')),
            limitRows.length ? h('h3', {}, 'Limits') : null,
            limitRows.length ? card(table([['Queue'], ['Scope'], ['Max running', 'num'], ['Max starts', 'num'],
              ['Running', 'num'], ['Waiting for the limit', 'num'], ['']], limitRows, '')) : null,
            h('h3', {}, 'Running now'),
            card(table([['Job'], ['Queue'], ['Method'], ['Progress'], ['Started']], runningRows, 'No job is running.')),
          ];
        }

        async function jobsView(params) {
          const query = new URLSearchParams();
          for (const key of ['status', 'queue', 'method', 'job_id', 'before']) if (params.get(key)) query.set(key, params.get(key));
          const page = await api('/api/jobs?' + query.toString());
          const field = (name, placeholder) => h('input', { name, placeholder, value: params.get(name) || '' });
          const status = h('select', { name: 'status' }, h('option', { value: '' }, 'any status'),
            ['queued', 'scheduled', 'deferred', 'started', 'finished', 'failed', 'canceled'].map(s =>
              h('option', { value: s, selected: params.get('status') === s }, s)));
          const form = h('form', { class: 'filters', onsubmit: event => {
            event.preventDefault();
            const next = new URLSearchParams();
            for (const [key, value] of new FormData(form)) if (value) next.set(key, value);
            location.hash = '#/jobs?' + next.toString();
          } }, status, field('queue', 'queue'), field('method', 'method'), field('job_id', 'job_id'),
            h('button', { type: 'submit' }, 'Filter'));
          const rows = page.jobs.map(job => h('tr', { 'data-job': job.id },
            h('td', {}, jobLink(job.id)), h('td', {}, badge(job.status)), h('td', {}, job.queue), h('td', {}, job.method),
            h('td', {}, job.job_id || ''), h('td', { class: 'num' }, job.attempts + (job.max_attempts ? ' / ' + job.max_attempts : '')),
            h('td', { class: 'muted' }, when(job.enqueued_at)),
            h('td', {}, job.status === 'started' ? bar(job.id, job.progress) : (job.ended_at ? when(job.ended_at) : '')),
            h('td', { class: 'wrap muted' }, job.error ? job.error.split('\n')[0] : '')));
          const pager = h('div', { class: 'pager' });
          if (params.get('before')) {
            const first = new URLSearchParams(query); first.delete('before');
            pager.append(h('a', { href: '#/jobs?' + first.toString() }, '← Newest'));
          }
          if (page.next_before) {
            const older = new URLSearchParams(query); older.set('before', page.next_before);
            pager.append(h('a', { href: '#/jobs?' + older.toString(), 'data-action': 'older' }, 'Older →'));
          }
          const bulk = !state.readOnly && params.get('status') === 'failed'
            ? h('button', { 'data-action': 'retry-failed', onclick: () => {
                const q = new URLSearchParams();
                if (params.get('queue')) q.set('queue', params.get('queue'));
                if (params.get('method')) q.set('method', params.get('method'));
                act('/api/retry-failed?' + q.toString(), 'Retry every failed job that matches?');
              } }, 'Retry all failed that match')
            : null;
          return [h('h2', {}, 'Jobs'), form, bulk ? h('div', { class: 'pager' }, bulk) : null,
            card(table([['Job'], ['Status'], ['Queue'], ['Method'], ['job_id'], ['Attempts', 'num'], ['Enqueued'], ['Progress / ended'], ['Error']],
              rows, 'No job matches.')), pager];
        }

        async function jobView(id) {
          const job = await api('/api/jobs/' + encodeURIComponent(id));
          const actions = [];
          if (!state.readOnly && (job.status === 'failed' || job.status === 'canceled'))
            actions.push(h('button', { 'data-action': 'retry', onclick: () => act('/api/jobs/' + job.id + '/retry') }, 'Retry'));
          if (!state.readOnly && ['queued', 'scheduled', 'deferred', 'started'].includes(job.status))
            actions.push(h('button', { class: 'danger', 'data-action': 'cancel', onclick: () => act('/api/jobs/' + job.id + '/cancel', 'Cancel job #' + job.id + '?') }, 'Cancel'));
          const fields = [['status', badge(job.status)], ['method', job.method], ['queue', h('a', { href: '#/jobs?queue=' + encodeURIComponent(job.queue) }, job.queue)],
            ['job_id', job.job_id], ['attempts', job.attempts + ' of ' + (job.max_attempts || 'the queue\'s maximum')],
            ['priority', job.priority + (job.at_front ? ', at front' : '')], ['timeout', job.timeout ? job.timeout + ' s' : 'the queue\'s'],
            ['run_at', when(job.run_at)], ['enqueued', when(job.enqueued_at)], ['started', job.started_at && when(job.started_at)],
            ['ended', job.ended_at && when(job.ended_at)], ['orphaned', job.orphaned ? job.orphaned + ' times' : null]];
          const summaries = (list, empty) => card(table([['Job'], ['Method'], ['Status']],
            list.map(j => h('tr', {}, h('td', {}, jobLink(j.id)), h('td', {}, j.method), h('td', {}, badge(j.status)))), empty));
          const pretty = value => h('pre', {}, JSON.stringify(value, null, 2));
          return [
            h('h2', {}, 'Job #' + job.id + ' ', badge(job.status), ' ', h('span', { class: 'actions', style: null }, actions)),
            card(h('dl', {}, fields.filter(([, v]) => v != null && v !== '').map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))),
            (job.progress || job.status === 'started') ? [h('h3', {}, 'Progress'), bar(job.id, job.progress, true)] : null,
            job.hidden ? h('p', { class: 'muted', 'data-field': 'hidden' }, 'Not shown: ' + job.hidden + '.') : [h('h3', {}, 'Arguments'), pretty(job.args)],
            job.result != null ? [h('h3', {}, 'Result'), pretty(job.result)] : null,
            job.error ? [h('h3', {}, 'Error'), h('pre', { 'data-field': 'error' }, job.error)] : null,
            h('h3', {}, 'Attempts'),
            card(table([['Attempt', 'num'], ['At'], ['Worker'], ['Error']], job.errors.map(e => h('tr', {},
              h('td', { class: 'num' }, e.attempt), h('td', {}, when(e.at)), h('td', {}, e.worker || '–'),
              h('td', { class: 'wrap' }, e.error))), 'No attempt has failed.')),
            h('h3', {}, 'Parents (depends_on)'), summaries(job.parents, 'This job depends on no other.'),
            h('h3', {}, 'Dependants'), summaries(job.dependants, 'No job depends on this one.'),
          ];
        }

        async function workersView() {
          const workers = await api('/api/workers');
          return [h('h2', {}, 'Workers'), card(table(
            [['Worker'], ['Host'], ['PID', 'num'], ['Queues'], ['Methods'], ['Slots busy', 'num'], ['Started'], ['Last heartbeat'], ['State']],
            workers.map(w => h('tr', { 'data-worker': w.id },
              h('td', {}, w.id), h('td', {}, w.host), h('td', { class: 'num' }, w.pid), h('td', {}, w.queues.join(', ')),
              h('td', { class: 'wrap' }, w.methods.join(', ')), h('td', { class: 'num' }, w.slots_busy + ' / ' + w.slots),
              h('td', {}, when(w.started_at)), h('td', {}, when(w.heartbeat_at)), h('td', {}, badge(w.alive ? 'alive' : 'dead')))),
            'No worker is running.'))];
        }

        async function scheduleView() {
          const events = await api('/api/schedule');
          return [h('h2', {}, 'Scheduled events'), card(table([['Event'], ['Method'], ['Queue'], ['Last fire'], ['Next fire']],
            events.map(e => h('tr', {}, h('td', {}, e.event), h('td', {}, e.method), h('td', {}, e.queue),
              h('td', {}, when(e.last_fire_at)), h('td', {}, when(e.next_fire_at)))),
            'No scheduler has recorded an event (scheduler_events in the config of porter scheduler or porter worker --scheduler).'))];
        }

        // MARK: Routing and refreshing

        function route() {
          const [path, query] = location.hash.replace(/^#/, '').split('?');
          const parts = path.split('/').filter(Boolean);
          const params = new URLSearchParams(query || '');
          if (parts[0] === 'jobs' && parts[1]) return ['jobs', () => jobView(parts[1])];
          if (parts[0] === 'jobs') return ['jobs', () => jobsView(params)];
          if (parts[0] === 'workers') return ['workers', workersView];
          if (parts[0] === 'schedule') return ['schedule', scheduleView];
          return ['queues', queuesView];
        }

        async function render() {
          const ticket = ++state.rendering;
          const [name, draw] = route();
          for (const a of document.querySelectorAll('nav a')) a.classList.toggle('active', a.dataset.nav === name);
          try {
            const content = await draw();
            if (ticket !== state.rendering) return;
            view.replaceChildren(...[content].flat(3).filter(c => c != null && c !== false));
          } catch (error) {
            if (ticket !== state.rendering) return;
            view.replaceChildren(h('p', { class: 'empty' }, 'Could not load: ' + error.message));
          }
        }

        // Reload what is shown, but never under the user's typing.
        function refresh() {
          const active = document.activeElement;
          if (active && (active.tagName === 'INPUT' || active.tagName === 'SELECT')) return;
          render();
        }

        function listen() {
          const live = document.getElementById('live');
          const source = new EventSource('/api/events');
          source.onopen = () => { live.classList.add('on'); live.title = 'live updates: on'; };
          source.onerror = () => { live.classList.remove('on'); live.title = 'live updates: reconnecting'; };
          source.addEventListener('progress', event => {
            window.__porterProgressEvents = (window.__porterProgressEvents || 0) + 1;
            onProgress(JSON.parse(event.data));
          });
          source.addEventListener('changed', refresh);
        }

        async function start() {
          try {
            const config = await api('/api/config');
            state.readOnly = !!config.read_only;
          } catch (_) { state.readOnly = true; }
          document.getElementById('mode').textContent = state.readOnly ? 'read-only' : '';
          document.body.dataset.readOnly = String(state.readOnly);
          try {
            for (const progress of await api('/api/progress')) state.progress.set(progress.job, progress);
          } catch (_) {}
          window.addEventListener('hashchange', render);
          listen();
          await render();
          document.body.dataset.ready = 'true';
          setInterval(refresh, 5000);
        }
        start();
        """#
}
