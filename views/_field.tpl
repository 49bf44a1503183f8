% # One labelled form field with its error. Arguments: name, label, type, value, errors, and optional hint/required/attrs.
% ftype = get('type', 'text')
% error = errors.get(name)
<div class="field{{' has-error' if error else ''}}">
  <label for="f-{{name}}">{{label}}</label>
  % if ftype == 'textarea':
  <textarea id="f-{{name}}" name="{{name}}" rows="{{get('rows', 6)}}"{{!' required' if get('required') else ''}}{{!' aria-describedby="e-%s"' % name if error else ''}}>{{get('value') or ''}}</textarea>
  % else:
  <input id="f-{{name}}" name="{{name}}" type="{{ftype}}" value="{{get('value') or ''}}"{{!' required' if get('required') else ''}}{{!' ' + attrs if get('attrs') else ''}}{{!' aria-describedby="e-%s"' % name if error else ''}}>
  % end
  % if get('hint'):
  <p class="hint">{{hint}}</p>
  % end
  % if error:
  <p class="field-error" id="e-{{name}}">{{error}}</p>
  % end
</div>
