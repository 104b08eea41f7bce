{#- The combination of `columns` is unique: a model's grain. Fails with each combination that
    appears more than once, and how often. -#}
{% test unique_combination(model, columns) %}

select
    {{ columns | join(', ') }},
    count(*) as occurrences
from {{ model }}
group by {{ columns | join(', ') }}
having count(*) > 1

{% endtest %}
