// Imports: the upload with a progress bar (XMLHttpRequest reports upload progress), then what was
// imported, or each refused row in place and the error workbook to download.
document.querySelectorAll('form[data-import]').forEach(function (form) {
  var box = form.closest('section');
  var bar = box.querySelector('progress'), result = box.querySelector('.result');
  var list = box.querySelector('.errors'), download = box.querySelector('.download');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open('POST', form.action);
    xhr.setRequestHeader('X-CSRF-Token', window.workbench.csrf());
    bar.hidden = false; bar.value = 0; list.innerHTML = ''; download.hidden = true; result.textContent = '';
    xhr.upload.onprogress = function (e) { if (e.lengthComputable) { bar.value = Math.round(100 * e.loaded / e.total); } };
    xhr.onload = function () {
      bar.value = 100;
      var body; try { body = JSON.parse(xhr.responseText); } catch (e) { body = { ok: false, detail: xhr.statusText }; }
      if (body.ok) {
        result.className = 'result ok';
        result.textContent = '已导入 ' + body.imported + ' 条，此前已导入 ' + body.already_imported + ' 条 / imported ' + body.imported;
        return;
      }
      result.className = 'result error';
      result.textContent = body.detail || '导入失败';
      (body.errors || []).forEach(function (e) {
        var li = document.createElement('li'); li.textContent = e.field + '：' + e.message; list.appendChild(li);
      });
      if (body.workbook_b64) {
        var bytes = Uint8Array.from(atob(body.workbook_b64), function (c) { return c.charCodeAt(0); });
        var blob = new Blob([bytes], { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' });
        download.querySelector('a').href = URL.createObjectURL(blob);
        download.hidden = false;
      }
    };
    xhr.send(new FormData(form));
  });
});
