% # One labelled form field with its error. Arguments: name, label, type, value, errors, and optional hint/required/attrs/field_id
% # (field_id when one page has two fields of the same name).
% fid = get('field_id') or name
% ftype = get('type', 'text')
% error = errors.get(name)
<div class="field{{' has-error' if error else ''}}">
  <label for="f-{{fid}}">{{label}}</label>
  % if ftype == 'textarea':
  <textarea id="f-{{fid}}" name="{{name}}" rows="{{get('rows', 6)}}"{{!' required' if get('required') else ''}}{{!' aria-describedby="e-%s"' % fid if error else ''}}>{{get('value') or ''}}</textarea>
  % else:
  <input id="f-{{fid}}" name="{{name}}" type="{{ftype}}" value="{{get('value') or ''}}"{{!' required' if get('required') else ''}}{{!' ' + attrs if get('attrs') else ''}}{{!' aria-describedby="e-%s"' % fid if error else ''}}>
  % end
  % if get('hint'):
  <p class="hint">{{hint}}</p>
  % end
  % if error:
  <p class="field-error" id="e-{{fid}}">{{error}}</p>
  % end
</div>
